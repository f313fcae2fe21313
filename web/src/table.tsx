// The pieces every list table shares: the frame that scrolls sideways on narrow screens, the header
// with its unlabelled actions column, and the small buttons of a row.
import type { ComponentChildren, VNode } from 'preact';

/** A header cell: its text, or the text with a class and a tooltip. */
export type Column = string | { label: ComponentChildren; class?: string; title?: string };

/** The header cell of the actions column: nothing to see, "Actions" for screen readers. */
export function ActionsHeader(): VNode {
  return (
    <th scope="col" class="table__actions">
      <span class="visually-hidden">Actions</span>
    </th>
  );
}

/** A `table` in its `table-wrap` frame with a header row of `columns` (and the actions column when `actions`); the children are its rows. */
export function DataTable({
  columns,
  actions = false,
  class: className,
  testId,
  labelledBy,
  children,
}: {
  columns: readonly Column[];
  actions?: boolean;
  /** Classes besides "table". */
  class?: string;
  testId?: string;
  labelledBy?: string;
  children: ComponentChildren;
}): VNode {
  return (
    <div class="table-wrap">
      <table class={className ? `table ${className}` : 'table'} data-testid={testId} aria-labelledby={labelledBy}>
        <thead>
          <tr>
            {columns.map((column, index) =>
              typeof column === 'string' ? (
                <th key={index} scope="col">
                  {column}
                </th>
              ) : (
                <th key={index} scope="col" class={column.class} title={column.title}>
                  {column.label}
                </th>
              ),
            )}
            {actions && <ActionsHeader />}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** A row's small button; `danger` for one that destroys or revokes (it asks first). */
export function RowButton({
  onClick,
  testId,
  danger = false,
  disabled,
  label,
  children,
}: {
  onClick: () => void;
  testId: string;
  danger?: boolean;
  disabled?: boolean;
  /** The accessible name, where the visible text alone does not say which row it acts on. */
  label?: string;
  children: ComponentChildren;
}): VNode {
  return (
    <button
      type="button"
      class={danger ? 'button button--small button--danger-outline' : 'button button--small button--secondary'}
      disabled={disabled}
      onClick={onClick}
      aria-label={label}
      data-testid={testId}
    >
      {children}
    </button>
  );
}

/** The "Load more" button under a list with further pages ("Loading…" while `pending`). */
export function LoadMore({ pending, onMore, testId }: { pending: boolean; onMore: () => void; testId: string }): VNode {
  return (
    <p class="load-more">
      <button type="button" class="button button--secondary" onClick={onMore} disabled={pending} data-testid={testId}>
        {pending ? 'Loading…' : 'Load more'}
      </button>
    </p>
  );
}

/** The actions cell of a row whose one action is "Revoke" (it asks first). */
export function RevokeCell({ onRevoke, testId }: { onRevoke: () => void; testId: string }): VNode {
  return (
    <td class="table__actions">
      <RowButton danger onClick={onRevoke} testId={testId}>
        Revoke
      </RowButton>
    </td>
  );
}
