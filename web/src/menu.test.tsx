import { act } from 'preact/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ActionsMenu } from './menu';
import type { Mounted } from './test-utils';
import { click, mount } from './test-utils';

let page: Mounted | undefined;
afterEach(() => {
  page?.unmount();
  page = undefined;
});

async function key(target: Element | null, name: string): Promise<void> {
  if (!target) throw new Error('no such element');
  await act(async () => {
    target.dispatchEvent(new KeyboardEvent('keydown', { key: name, bubbles: true, cancelable: true }));
  });
}

async function mountMenu() {
  const share = vi.fn();
  const remove = vi.fn();
  page = await mount(
    <ActionsMenu
      label="Actions for mnist"
      testId="menu"
      actions={[
        { label: 'Download', testId: 'download', href: '/api/v1/download/datasets/mnist', download: 'mnist.tar' },
        { label: 'Share…', testId: 'share', onSelect: share },
        { label: 'Delete…', testId: 'delete', onSelect: remove, danger: true },
      ]}
    />,
  );
  return { share, remove, button: page.byTestId<HTMLButtonElement>('menu')!, list: page.byTestId<HTMLUListElement>('menu-list')! };
}

describe('ActionsMenu', () => {
  it('is a labelled menu button whose list stays hidden until opened', async () => {
    const { button, list } = await mountMenu();
    expect(button.getAttribute('aria-label')).toBe('Actions for mnist');
    expect(button.getAttribute('aria-haspopup')).toBe('menu');
    expect(button.getAttribute('aria-expanded')).toBe('false');
    expect(button.getAttribute('aria-controls')).toBe(list.id);
    expect(list.getAttribute('role')).toBe('menu');
    expect(list.hidden).toBe(true);
    const items = [...list.querySelectorAll('[role="menuitem"]')];
    expect(items.map((item) => item.textContent)).toEqual(['Download', 'Share…', 'Delete…']);
    expect(items.every((item) => item.getAttribute('tabindex') === '-1')).toBe(true);
    expect(page!.byTestId('download')?.getAttribute('href')).toBe('/api/v1/download/datasets/mnist');
    expect(page!.byTestId('download')?.getAttribute('download')).toBe('mnist.tar');
    expect(page!.byTestId('delete')?.classList.contains('menu__item--danger')).toBe(true);
  });

  it('opens on click with the first action focused, runs the chosen one and closes', async () => {
    const { button, list, share } = await mountMenu();
    await click(button);
    expect(button.getAttribute('aria-expanded')).toBe('true');
    expect(list.hidden).toBe(false);
    expect(document.activeElement).toBe(page!.byTestId('download'));
    await click(page!.byTestId('share'));
    expect(share).toHaveBeenCalledTimes(1);
    expect(list.hidden).toBe(true);
    expect(document.activeElement).toBe(button);
  });

  it('moves with the arrow keys, Home and End; Escape closes and returns to the button', async () => {
    const { button, list } = await mountMenu();
    await key(button, 'ArrowDown');
    expect(list.hidden).toBe(false);
    expect(document.activeElement).toBe(page!.byTestId('download'));
    await key(document.activeElement, 'ArrowDown');
    expect(document.activeElement).toBe(page!.byTestId('share'));
    await key(document.activeElement, 'End');
    expect(document.activeElement).toBe(page!.byTestId('delete'));
    await key(document.activeElement, 'ArrowDown');
    expect(document.activeElement).toBe(page!.byTestId('download'));
    await key(document.activeElement, 'ArrowUp');
    expect(document.activeElement).toBe(page!.byTestId('delete'));
    await key(document.activeElement, 'Home');
    expect(document.activeElement).toBe(page!.byTestId('download'));
    await key(document.activeElement, 'Escape');
    expect(list.hidden).toBe(true);
    expect(button.getAttribute('aria-expanded')).toBe('false');
    expect(document.activeElement).toBe(button);
  });

  it('closes on Tab and on a click elsewhere', async () => {
    const { button, list } = await mountMenu();
    await click(button);
    await key(document.activeElement, 'Tab');
    expect(list.hidden).toBe(true);
    await click(button);
    expect(list.hidden).toBe(false);
    await act(async () => {
      document.body.dispatchEvent(new Event('pointerdown', { bubbles: true }));
    });
    expect(list.hidden).toBe(true);
    await click(button);
    await click(button);
    expect(list.hidden).toBe(true);
  });
});
