// Shared by the Serving pages: the state badge, a copyable text, the row and page actions (scale,
// deactivate/activate, delete) with their dialogs, and the log console over an instance's replicas.
import type { VNode } from 'preact';
import { useMemo, useRef, useState } from 'preact/hooks';
import type { ServingApi, ServingInstance } from '../../api/serving';
import { replicaLogStreamUrl } from '../../api/serving';
import { ConfirmDialog, DialogCloseButton, ModalDialog } from '../../dialog';
import { bindField, ErrorBanner, Form, SubmitButton, TextField, useAction, useForm } from '../../forms';
import type { LogSource, OpenEventSource } from '../jobs/LogConsole';
import { LogConsoleView } from '../jobs/LogConsole';
import { copyText } from '../settings/common';
import { collectErrors } from '../../validation';
import { isSettling, podPhaseOf, replicaResourcesText, servingTone } from './model';
import { formatSize } from '../../format';

export function ServingBadge({ instance, testId = 'serving-state' }: { instance: Pick<ServingInstance, 'state' | 'reason' | 'message'>; testId?: string }): VNode {
  const why = [instance.reason, instance.message].filter(Boolean).join(': ');
  return (
    <span class={`badge badge--${servingTone(instance.state)}`} title={why || undefined} data-testid={testId} data-state={instance.state}>
      <span class="badge__dot" aria-hidden="true" />
      {instance.state}
    </span>
  );
}

/**
 * A read-only text (a URL, a snippet) with a Copy button; test ids `<testId>` and `<testId>-copy`. With
 * `shown`, a short form of the text is shown (e.g. a URL's path in a table) and the whole text copied.
 */
export function CopyText({ text, label, testId, multiline = false, shown }: { text: string; label: string; testId: string; multiline?: boolean; shown?: string }): VNode {
  const [copied, setCopied] = useState<boolean | null>(null);
  const input = useRef<HTMLInputElement>(null);
  return (
    <div class={multiline ? 'copy-text copy-text--block' : 'copy-text'}>
      {shown !== undefined ? (
        <code class="copy-text__short" title={text} data-testid={testId} data-text={text}>
          {shown}
        </code>
      ) : multiline ? (
        <pre class="copy-text__code" tabIndex={0} aria-label={label} data-testid={testId}>
          {text}
        </pre>
      ) : (
        <input ref={input} class="field__input copy-text__input" readOnly value={text} aria-label={label} data-testid={testId} onFocus={(e) => e.currentTarget.select()} />
      )}
      <button
        type="button"
        class="button button--small button--secondary"
        onClick={() => void copyText(text, input.current).then(setCopied)}
        aria-label={`Copy ${label}`}
        data-testid={`${testId}-copy`}
      >
        {copied === true ? 'Copied' : copied === false ? 'Copy failed' : 'Copy'}
      </button>
    </div>
  );
}

export type InstanceAction = 'scale' | 'delete' | null;

/** Asks for a number of replicas and scales the instance to it. */
export function ScaleDialog({ instance, api, onDone, onCancel }: { instance: ServingInstance; api: Pick<ServingApi, 'scaleInstance'>; onDone: (next: ServingInstance) => void; onCancel: () => void }): VNode {
  const form = useForm(['replicas'] as const, 'scale');
  const [replicas, setReplicas] = useState(String(instance.replicas.desired));
  const send = () =>
    void form.submit(
      async () => onDone(await api.scaleInstance(instance.name, Number(replicas.trim()))),
      () => collectErrors({ replicas: /^\d{1,2}$/.test(replicas.trim()) && Number(replicas) >= 1 && Number(replicas) <= 64 ? undefined : 'Enter a number of replicas from 1 to 64.' }),
    );
  const each = replicaResourcesText(instance.resources, formatSize);
  return (
    <ModalDialog title={`Scale ${instance.name}`} testId="scale-dialog" pending={form.pending} onCancel={onCancel}>
      <Form onSubmit={send} testId="scale-form" label="Number of replicas">
        {form.banner && <ErrorBanner error={form.banner} testId="scale-error" />}
        <TextField
          id="scale-replicas"
          label="Replicas"
          type="number"
          min={1}
          max={64}
          inputMode="numeric"
          hint={`Each replica: ${each}. Replicas that go finish their requests first.`}
          {...bindField(form, 'replicas', replicas, setReplicas)}
        />
        <div class="dialog__actions">
          <DialogCloseButton testId="scale-dialog" pending={form.pending} onClose={onCancel} />
          <SubmitButton pending={form.pending} pendingLabel="Scaling…" testId="scale-submit">
            Scale
          </SubmitButton>
        </div>
      </Form>
    </ModalDialog>
  );
}

export function DeleteDialog({ instance, api, onDone, onCancel }: { instance: ServingInstance; api: Pick<ServingApi, 'deleteInstance'>; onDone: () => void; onCancel: () => void }): VNode {
  const action = useAction();
  return (
    <ConfirmDialog
      title={`Delete ${instance.name}?`}
      confirmLabel="Delete instance"
      pendingLabel="Deleting…"
      danger
      pending={action.pending}
      error={action.error}
      onConfirm={() => void action.run(async () => {
        await api.deleteInstance(instance.name);
        onDone();
      })}
      onCancel={onCancel}
      testId="delete-dialog"
    >
      <p>
        Its URL stops answering once the requests in flight have finished. Its model snapshot, logs and metrics are deleted; the model in{' '}
        <code>{instance.model}</code> stays.
      </p>
    </ConfirmDialog>
  );
}

/** Deactivates an active instance or activates an inactive one. */
export function toggleActive(api: Pick<ServingApi, 'activateInstance' | 'deactivateInstance'>, instance: ServingInstance): Promise<ServingInstance> {
  return instance.state === 'inactive' ? api.activateInstance(instance.name) : api.deactivateInstance(instance.name);
}

/** The log console over the instance's replicas. */
export function ReplicaLogs({
  instance,
  api,
  initialReplica,
  onClose,
  linkToInstance,
  openEventSource,
}: {
  instance: ServingInstance;
  api: Pick<ServingApi, 'getInstance' | 'getReplicaLogRange'>;
  initialReplica?: number | undefined;
  onClose: () => void;
  linkToInstance: boolean;
  openEventSource?: OpenEventSource | undefined;
}): VNode {
  const { name } = instance;
  const source = useMemo<LogSource>(
    () => ({
      key: `serving:${name}`,
      title: name,
      href: linkToInstance ? instancePagePath(name) : undefined,
      loadPods: async (signal) => {
        const loaded = await api.getInstance(name, signal ? { signal } : undefined);
        const pods = loaded.replica_list.map((replica) => ({
          name: String(replica.index),
          label: `replica ${replica.index}`,
          phase: podPhaseOf(replica.phase),
          reason: replica.reason,
          restarts: replica.restarts,
        }));
        return { pods, active: isSettling(loaded) };
      },
      streamUrl: (pod, tail) => replicaLogStreamUrl(name, Number(pod), tail),
      readRange: (pod, offset, length) => api.getReplicaLogRange(name, Number(pod), offset, length),
      // The stream ends with the replica: "scaled down", "inactive" or "deleted".
      endedText: (state) => (state === 'scaled down' ? 'Scaled down' : `Instance ${state}`),
    }),
    [name, api, linkToInstance],
  );
  return (
    <LogConsoleView
      source={source}
      active={isSettling(instance)}
      onClose={onClose}
      initialPod={initialReplica === undefined ? undefined : String(initialReplica)}
      {...(openEventSource ? { openEventSource } : {})}
      testData={{ 'data-instance': name }}
    />
  );
}

/** The instance page of the web app (`/serving/<name>`: one segment, which the gateway never takes). */
export function instancePagePath(name: string): string {
  return `/serving/${encodeURIComponent(name)}`;
}
