// A modal confirmation (the native <dialog>, so focus stays inside and Escape cancels).
import type { ComponentChildren, VNode } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { ApiError } from './api/client';
import { ErrorBanner } from './forms';

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
      class="dialog"
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
      <div class="dialog__body">{children}</div>
      {error && <ErrorBanner error={error} testId={`${testId}-error`} />}
      <div class="dialog__actions">
        <button type="button" class="button button--secondary" onClick={onCancel} disabled={pending} data-testid={`${testId}-cancel`}>
          Cancel
        </button>
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
    </dialog>
  );
}
