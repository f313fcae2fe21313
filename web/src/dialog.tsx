// Modal dialogs (the native <dialog>, so focus stays inside and Escape cancels): the shared frame, a
// confirmation, and the state of a confirmation that runs a request.
import type { ComponentChildren, VNode } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ApiError } from './api/client';
import { ErrorBanner, useAction } from './forms';

export interface ModalDialogProps {
  title: string;
  /** The dialog's test id; its title gets `<testId>-title`. */
  testId: string;
  children: ComponentChildren;
  wide?: boolean;
  /** While true, Escape does not close the dialog. */
  pending?: boolean;
  onCancel: () => void;
}

/** The frame of every modal dialog: shown (modal) while mounted, so render it only when it is wanted. */
export function ModalDialog({ title, testId, children, wide = false, pending = false, onCancel }: ModalDialogProps): VNode {
  const ref = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (typeof dialog.showModal === 'function' && !dialog.open) {
      try {
        dialog.showModal();
      } catch {
        dialog.setAttribute('open', '');
      }
    } else if (!dialog.open) {
      dialog.setAttribute('open', '');
    }
    return () => {
      if (dialog.open && typeof dialog.close === 'function') dialog.close();
    };
  }, []);

  return (
    <dialog
      ref={ref}
      class={wide ? 'dialog dialog--wide' : 'dialog'}
      aria-labelledby={`${testId}-title`}
      data-testid={testId}
      onCancel={(event) => {
        event.preventDefault();
        if (!pending) onCancel();
      }}
    >
      <h2 class="dialog__title" id={`${testId}-title`}>
        {title}
      </h2>
      {children}
    </dialog>
  );
}

/** The dialog's secondary button that closes it (test id `<testId>-cancel`). */
export function DialogCloseButton({
  testId,
  pending = false,
  onClose,
  children = 'Cancel',
}: {
  testId: string;
  pending?: boolean;
  onClose: () => void;
  children?: ComponentChildren;
}): VNode {
  return (
    <button type="button" class="button button--secondary" onClick={onClose} disabled={pending} data-testid={`${testId}-cancel`}>
      {children}
    </button>
  );
}

export interface ConfirmDialogProps {
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  pendingLabel?: string;
  /** Red confirm button for destructive actions. */
  danger?: boolean;
  pending?: boolean;
  error?: ApiError | null;
  onConfirm: () => void;
  onCancel: () => void;
  testId?: string;
}

/** Shown while mounted: render it only when a confirmation is wanted. */
export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  pendingLabel,
  danger = false,
  pending = false,
  error = null,
  onConfirm,
  onCancel,
  testId = 'confirm-dialog',
}: ConfirmDialogProps): VNode {
  return (
    <ModalDialog title={title} testId={testId} pending={pending} onCancel={onCancel}>
      <div class="dialog__body">{children}</div>
      {error && <ErrorBanner error={error} testId={`${testId}-error`} />}
      <div class="dialog__actions">
        <DialogCloseButton testId={testId} pending={pending} onClose={onCancel} />
        <button
          type="button"
          class={danger ? 'button button--danger' : 'button'}
          onClick={onConfirm}
          disabled={pending}
          aria-busy={pending ? 'true' : undefined}
          data-testid={`${testId}-confirm`}
        >
          {pending ? (pendingLabel ?? 'Working…') : confirmLabel}
        </button>
      </div>
    </ModalDialog>
  );
}

export interface Confirmation<T> {
  /** What the open dialog asks about; null while no dialog is open. */
  target: T | null;
  pending: boolean;
  error: ApiError | null;
  /** Opens the dialog about `target`, without the error of an earlier attempt. */
  ask: (target: T) => void;
  /** Closes the dialog and forgets its error. */
  cancel: () => void;
  /** Runs `action` on the target; the dialog closes when it succeeds and stays open with the error otherwise. */
  confirm: (action: (target: T) => Promise<void>) => Promise<boolean>;
}

/** The state behind a ConfirmDialog for one of many items (e.g. the row whose Revoke was pressed). */
export function useConfirmation<T>(): Confirmation<T> {
  const [target, setTarget] = useState<T | null>(null);
  const action = useAction();
  return {
    target,
    pending: action.pending,
    error: action.error,
    ask: (next) => {
      action.reset();
      setTarget(next);
    },
    cancel: () => {
      setTarget(null);
      action.reset();
    },
    confirm: async (run) => {
      if (target === null) return false;
      const current = target;
      const ok = await action.run(() => run(current));
      if (ok) setTarget(null);
      return ok;
    },
  };
}

/**
 * The props of the ConfirmDialog that `confirmation` opens: its pending state and error, Cancel closes
 * it, and the confirm button runs `action` on the target it asks about.
 */
export function confirmationProps<T>(
  confirmation: Confirmation<T>,
  action: (target: T) => Promise<void>,
): Pick<ConfirmDialogProps, 'pending' | 'error' | 'onConfirm' | 'onCancel'> {
  return {
    pending: confirmation.pending,
    error: confirmation.error,
    onConfirm: () => void confirmation.confirm(action),
    onCancel: confirmation.cancel,
  };
}

/**
 * Asks before revoking what `confirmation` targets (a token, a key, a share) and then runs `revoke` on
 * it: open while there is a target, with a red button that reads "Revoking…" while the request runs.
 */
export function RevokeDialog<T>({
  confirmation,
  revoke,
  title,
  confirmLabel,
  testId,
  children,
}: {
  confirmation: Confirmation<T>;
  revoke: (target: T) => Promise<void>;
  title: string | ((target: T) => string);
  confirmLabel: string;
  testId?: string;
  children: (target: T) => ComponentChildren;
}): VNode | null {
  const target = confirmation.target;
  if (target === null) return null;
  return (
    <ConfirmDialog
      title={typeof title === 'string' ? title : title(target)}
      confirmLabel={confirmLabel}
      pendingLabel="Revoking…"
      danger
      testId={testId}
      {...confirmationProps(confirmation, revoke)}
    >
      {children(target)}
    </ConfirmDialog>
  );
}
