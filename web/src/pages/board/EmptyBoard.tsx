// What a board without graphs says: how training code draws on it (`draw_board`, or VisualDL's
// LogWriter), with snippets to copy; while a job runs, that its curves appear as soon as it draws.
import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import { copyText } from '../settings/common';

export const DRAW_BOARD_SNIPPET = `from paddlecloud import draw_board

for step, batch in enumerate(train_reader()):
    cost = train_one_step(batch)
    draw_board(cost)                  # the graph "cost", one point per call`;

export const LOG_WRITER_SNIPPET = `from paddlecloud.board import LogWriter

with LogWriter() as writer:           # VisualDL's writer
    writer.add_scalar("train/loss", loss, step)`;

function Snippet({ text, label, testId }: { text: string; label: string; testId: string }): VNode {
  const [copied, setCopied] = useState<boolean | null>(null);
  return (
    <div class="board-snippet">
      <pre class="snippet" data-testid={`${testId}-text`}>
        <code>{text}</code>
      </pre>
      <button type="button" class="button button--small button--secondary" aria-label={`Copy ${label}`} onClick={() => void copyText(text).then(setCopied)} data-testid={`${testId}-copy`}>
        {copied === true ? 'Copied' : 'Copy'}
      </button>
      {copied === false && (
        <span class="muted" role="status">
          Could not copy: select the text and copy it.
        </span>
      )}
    </div>
  );
}

export function EmptyBoard({ running }: { running: boolean }): VNode {
  return (
    <div class="empty board-empty" data-testid="board-empty">
      <p class="empty__title">No graphs yet</p>
      <p class="empty__text" data-testid="board-empty-live">
        {running
          ? 'The curves appear here as soon as the training code draws them; this page updates by itself.'
          : 'Training code draws its curves with draw_board from the PaddleCloud SDK; they show here.'}
      </p>
      <p class="empty__text">
        Call <code>draw_board</code> with the values to follow: each call adds a point to the graph named after its arguments.
      </p>
      <Snippet text={DRAW_BOARD_SNIPPET} label="the draw_board example" testId="board-snippet" />
      <p class="empty__text">
        Code that logs with VisualDL’s <code>LogWriter</code> draws on the board the same way:
      </p>
      <Snippet text={LOG_WRITER_SNIPPET} label="the LogWriter example" testId="board-snippet-logwriter" />
      <p class="empty__text">
        The board guide, <code>docs/board.md</code> in the PaddleCloud sources, says how graphs and curves are named and how many points are kept.
      </p>
    </div>
  );
}
