// A row's actions menu (the WAI-ARIA menu button pattern): a "⋯" button that opens a list of actions.
// Arrow keys, Home and End move between the actions, Escape closes and returns to the button, Tab or a
// click elsewhere closes. The list stays in the document while closed (hidden), so aria-controls
// always names it. It is drawn `position: fixed` under the button, so a scrolling table cannot clip it.
import type { RefObject, VNode } from 'preact';
import { useId, useLayoutEffect, useRef, useState } from 'preact/hooks';

export interface MenuAction {
  label: string;
  testId: string;
  /** A link (a download, another page) instead of a button. */
  href?: string;
  download?: string;
  onSelect?: () => void;
  danger?: boolean;
}

/** Space kept between the list and the window's edges, in pixels. */
const EDGE = 8;

function place(button: HTMLElement, list: HTMLElement): void {
  const anchor = button.getBoundingClientRect();
  const width = list.offsetWidth;
  const height = list.offsetHeight;
  const left = Math.max(EDGE, Math.min(anchor.right - width, window.innerWidth - width - EDGE));
  const below = anchor.bottom + 4;
  const top = below + height > window.innerHeight - EDGE && anchor.top - height - 4 >= EDGE ? anchor.top - height - 4 : below;
  list.style.setProperty('left', `${Math.round(left)}px`);
  list.style.setProperty('top', `${Math.round(top)}px`);
}

/** The menu items of `list`, in order. */
function menuItems(list: HTMLElement | null): HTMLElement[] {
  return [...(list?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
}

/**
 * While `open`: the list placed under the button (following scrolls and resizes), the first item
 * focused, and a pointer press outside `root` closes it.
 */
function useOpenMenu(
  open: boolean,
  setOpen: (open: boolean) => void,
  refs: { root: RefObject<HTMLElement | null>; button: RefObject<HTMLElement | null>; list: RefObject<HTMLElement | null> },
): void {
  useLayoutEffect(() => {
    const { root, button, list } = refs;
    if (!open || !button.current || !list.current) return;
    const b = button.current;
    const l = list.current;
    place(b, l);
    menuItems(l)[0]?.focus();
    const follow = () => place(b, l);
    const outside = (event: Event) => {
      if (!root.current?.contains(event.target as Node)) setOpen(false);
    };
    window.addEventListener('scroll', follow, true);
    window.addEventListener('resize', follow);
    document.addEventListener('pointerdown', outside);
    return () => {
      window.removeEventListener('scroll', follow, true);
      window.removeEventListener('resize', follow);
      document.removeEventListener('pointerdown', outside);
    };
  }, [open]);
}

/** The keys of an open list: arrows, Home and End move; Escape closes and refocuses the button; Tab closes. */
function listKeyHandler(list: RefObject<HTMLElement | null>, close: (refocus: boolean) => void) {
  return (event: KeyboardEvent) => {
    const all = menuItems(list.current);
    const at = all.indexOf(document.activeElement as HTMLElement);
    const move = (to: number) => {
      event.preventDefault();
      all[(to + all.length) % all.length]?.focus();
    };
    if (event.key === 'ArrowDown') move(at + 1);
    else if (event.key === 'ArrowUp') move(at - 1);
    else if (event.key === 'Home') move(0);
    else if (event.key === 'End') move(all.length - 1);
    else if (event.key === 'Escape') {
      event.preventDefault();
      close(true);
    } else if (event.key === 'Tab') close(false);
  };
}

export function ActionsMenu({ label, actions, testId = 'row-menu' }: { label: string; actions: readonly MenuAction[]; testId?: string }): VNode {
  const [open, setOpen] = useState(false);
  const id = useId();
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const list = useRef<HTMLUListElement>(null);
  useOpenMenu(open, setOpen, { root, button, list });
  const close = (refocus: boolean) => {
    setOpen(false);
    if (refocus) button.current?.focus();
  };
  const onButtonKey = (event: KeyboardEvent) => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      setOpen(true);
    }
  };

  return (
    <div class="menu" ref={root}>
      <button
        ref={button}
        type="button"
        class="menu__button"
        aria-haspopup="menu"
        aria-expanded={open ? 'true' : 'false'}
        aria-controls={id}
        aria-label={label}
        title={label}
        onClick={() => setOpen(!open)}
        onKeyDown={onButtonKey}
        data-testid={testId}
      >
        <svg viewBox="0 0 20 20" width="18" height="18" aria-hidden="true" focusable="false">
          <circle cx="4" cy="10" r="1.8" />
          <circle cx="10" cy="10" r="1.8" />
          <circle cx="16" cy="10" r="1.8" />
        </svg>
      </button>
      <ul
        ref={list}
        id={id}
        class="menu__list"
        role="menu"
        aria-label={label}
        hidden={!open}
        onKeyDown={listKeyHandler(list, close)}
        data-testid={`${testId}-list`}
      >
        {actions.map((action) => (
          <li role="none" key={action.testId}>
            <MenuItem action={action} close={close} />
          </li>
        ))}
      </ul>
    </div>
  );
}

/** One action: a link, or a button that closes the menu (focus back on its button) and runs it. */
function MenuItem({ action, close }: { action: MenuAction; close: (refocus: boolean) => void }): VNode {
  if (action.href !== undefined) {
    return (
      <a
        role="menuitem"
        tabIndex={-1}
        class="menu__item"
        href={action.href}
        download={action.download}
        onClick={() => close(true)}
        data-testid={action.testId}
      >
        {action.label}
      </a>
    );
  }
  return (
    <button
      type="button"
      role="menuitem"
      tabIndex={-1}
      class={action.danger ? 'menu__item menu__item--danger' : 'menu__item'}
      onClick={() => {
        close(true);
        action.onSelect?.();
      }}
      data-testid={action.testId}
    >
      {action.label}
    </button>
  );
}
