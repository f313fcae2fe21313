// The notebook's resources (CPU, memory, GPUs) as Start and Restart ask for them, with the account's
// quota beside them when it can be read. The server's error about a field shows next to that field.
import type { VNode } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { NotebookResources } from '../../api/notebook';
import type { AccountQuota, UsageApi } from '../../api/usage';
import { bindField, ErrorBanner, Form, SubmitButton, TextField, useForm } from '../../forms';
import { formatCores, formatSize } from '../../format';
import { collectErrors } from '../../validation';
import { cpuMilli, memoryBytes } from '../jobs/capacity';

const FIELDS = ['cpu', 'memory', 'gpus'] as const;
type Field = (typeof FIELDS)[number];

export interface ResourcesFormProps {
  /** The values the form opens with. */
  initial: NotebookResources;
  defaults: NotebookResources;
  submitLabel: string;
  pendingLabel: string;
  /** Sends the start or restart; a thrown ApiError naming a field shows next to it. */
  onSubmit: (resources: NotebookResources) => Promise<void>;
  quota?: Pick<UsageApi, 'getQuota'> | undefined;
  testId: string;
  /** Buttons after the submit button (e.g. Cancel in a dialog). */
  extraActions?: VNode;
}

function check(cpu: string, memory: string, gpus: string) {
  return collectErrors<Field>({
    cpu: cpuMilli(cpu) === null || cpuMilli(cpu) === 0 ? 'Enter a CPU amount such as 1, 0.5 or 500m.' : undefined,
    memory: memoryBytes(memory) === null || memoryBytes(memory) === 0 ? 'Enter a memory amount such as 2Gi or 512Mi.' : undefined,
    gpus: /^\d{1,3}$/.test(gpus.trim()) ? undefined : 'Enter a whole number of GPUs (0 for none).',
  });
}

export function ResourcesForm({ initial, defaults, submitLabel, pendingLabel, onSubmit, quota, testId, extraActions }: ResourcesFormProps): VNode {
  const form = useForm(FIELDS, 'notebook');
  const [cpu, setCpu] = useState(initial.cpu);
  const [memory, setMemory] = useState(initial.memory);
  const [gpus, setGpus] = useState(String(initial.gpus));
  const send = () =>
    void form.submit(
      () => onSubmit({ cpu: cpu.trim(), memory: memory.trim(), gpus: Number(gpus.trim()) }),
      () => check(cpu, memory, gpus),
    );
  return (
    <Form onSubmit={send} testId={testId} label="Notebook resources" class="form notebook-form">
      {form.banner && <ErrorBanner error={form.banner} testId={`${testId}-error`} />}
      <div class="notebook-form__fields">
        <TextField id="notebook-cpu" label="CPU" hint={`Cores, e.g. 1 or 500m. Default ${defaults.cpu}.`} autoComplete="off" spellcheck={false} {...bindField(form, 'cpu', cpu, setCpu)} />
        <TextField id="notebook-memory" label="Memory" hint={`E.g. 2Gi or 512Mi. Default ${defaults.memory}.`} autoComplete="off" spellcheck={false} {...bindField(form, 'memory', memory, setMemory)} />
        <TextField id="notebook-gpus" label="GPUs" type="number" min={0} inputMode="numeric" hint={`Default ${defaults.gpus}.`} {...bindField(form, 'gpus', gpus, setGpus)} />
      </div>
      {quota && <QuotaNote api={quota} />}
      <div class="actions">
        <SubmitButton pending={form.pending} pendingLabel={pendingLabel} testId={`${testId}-submit`}>
          {submitLabel}
        </SubmitButton>
        {extraActions}
      </div>
    </Form>
  );
}

/** "8 cores", "32 GiB", "2 GPUs" for each resource the account has a quota of. */
function quotaParts(q: { cpu: number | null; memory_bytes: number | null; gpus: number | null }): string[] {
  const parts: string[] = [];
  if (q.cpu !== null) parts.push(formatCores(q.cpu));
  if (q.memory_bytes !== null) parts.push(`${formatSize(q.memory_bytes)} memory`);
  if (q.gpus !== null) parts.push(`${q.gpus} GPU${q.gpus === 1 ? '' : 's'}`);
  return parts;
}

/** The account's quota and what its running jobs and notebooks use of it; nothing when it cannot be read. */
function QuotaNote({ api }: { api: Pick<UsageApi, 'getQuota'> }): VNode | null {
  const [quota, setQuota] = useState<AccountQuota | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    api.getQuota({ signal: controller.signal }).then(setQuota, () => setQuota(null));
    return () => controller.abort();
  }, [api]);
  if (!quota) return null;
  const limits = quotaParts(quota.quota);
  const { in_use: used } = quota;
  return (
    <p class="field__hint" data-testid="notebook-quota">
      {limits.length > 0 ? `Your account’s quota: ${limits.join(', ')}. ` : 'Your account has no quota. '}
      In use now: {formatCores(used.cpu)}, {formatSize(used.memory_bytes)} memory, {used.gpus} GPU{used.gpus === 1 ? '' : 's'}.
    </p>
  );
}
