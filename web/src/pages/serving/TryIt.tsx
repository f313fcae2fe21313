// "Try it": reads the model's metadata through the gateway (GET <url>/v2/models/<name>), offers an
// infer request with zero tensors of the declared shapes in a JSON editor, sends it and shows the
// answer, its status and latency; below, the same request as curl, Python requests and SDK snippets.
import type { VNode } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { GatewayAnswer, ServingApi, ServingInstance } from '../../api/serving';
import { ErrorBanner, isAbort, Segmented, TextAreaField, toApiError } from '../../forms';
import { CopyText } from './common';
import type { ModelMetadata } from './model';
import { clientSnippets, formatLatency, zeroRequest } from './model';

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The protocol's error message (`{"error": "..."}`) or the API's (`{"error": {"message"}}`), else the status. */
function answerError(answer: GatewayAnswer): string {
  const body = parseJson(answer.text) as { error?: string | { message?: string } } | undefined;
  const error = body?.error;
  const message = typeof error === 'string' ? error : error?.message;
  return `HTTP ${answer.status}${message ? `: ${message}` : ''}`;
}

type Snippet = 'curl' | 'requests' | 'sdk';

export function TryIt({ instance, api }: { instance: ServingInstance; api: Pick<ServingApi, 'callGateway'> }): VNode {
  const [metadata, setMetadata] = useState<ModelMetadata | null>(null);
  const [metadataError, setMetadataError] = useState<string | null>(null);
  const [request, setRequest] = useState('');
  const [requestError, setRequestError] = useState<string | undefined>(undefined);
  const [answer, setAnswer] = useState<GatewayAnswer | null>(null);
  const [sending, setSending] = useState(false);
  const [snippet, setSnippet] = useState<Snippet>('curl');
  const ready = instance.replicas.ready > 0;
  const metadataUrl = `${instance.url}/v2/models/${encodeURIComponent(instance.name)}`;

  useEffect(() => {
    if (!ready || metadata) return;
    const controller = new AbortController();
    api.callGateway(metadataUrl, undefined, controller.signal).then(
      (got) => {
        const body = parseJson(got.text) as ModelMetadata | undefined;
        if (got.status !== 200 || !body || !Array.isArray(body.inputs)) {
          setMetadataError(answerError(got));
          return;
        }
        setMetadata(body);
        setMetadataError(null);
        setRequest(JSON.stringify(zeroRequest(body), null, 2));
      },
      (err) => {
        if (!isAbort(err)) setMetadataError(toApiError(err).message);
      },
    );
    return () => controller.abort();
  }, [ready, metadataUrl]);

  const send = async () => {
    const body = parseJson(request);
    if (body === undefined || typeof body !== 'object' || body === null) {
      setRequestError('The request is not JSON: fix it, or reload the page for the template.');
      return;
    }
    setRequestError(undefined);
    setSending(true);
    try {
      setAnswer(await api.callGateway(instance.infer_url, request));
    } catch (err) {
      setAnswer({ status: 0, text: toApiError(err).message, ms: 0 });
    } finally {
      setSending(false);
    }
  };

  const parsed = parseJson(request);
  const snippets = clientSnippets(window.location.origin, instance, typeof parsed === 'object' && parsed !== null ? parsed : zeroRequest(metadata ?? { inputs: [] }));
  const answerBody = answer ? parseJson(answer.text) : undefined;
  return (
    <section class="card serving-try" aria-labelledby="serving-try-title" data-testid="serving-try">
      <h2 class="card__title" id="serving-try-title">
        Try it
      </h2>
      {!ready && <p class="muted">Once a replica is ready, its model’s inputs and outputs show here with a request to send.</p>}
      {metadataError && <ErrorBanner error={`Could not read the model’s metadata: ${metadataError}`} testId="serving-try-metadata-error" />}
      {metadata && (
        <>
          <p class="muted" data-testid="serving-try-signature">
            Inputs: {metadata.inputs.map((t) => `${t.name} ${t.datatype} [${t.shape.join(', ')}]`).join('; ')}. Outputs:{' '}
            {metadata.outputs.map((t) => `${t.name} ${t.datatype} [${t.shape.join(', ')}]`).join('; ')}.
          </p>
          <TextAreaField id="serving-try-request" label="Infer request (JSON)" code rows={10} spellcheck={false} value={request} onValue={setRequest} error={requestError} />
          <div class="actions">
            <button type="button" class="button" disabled={sending} aria-busy={sending ? 'true' : undefined} onClick={() => void send()} data-testid="serving-try-send">
              {sending ? 'Sending…' : 'Send'}
            </button>
          </div>
          {answer && (
            <div class="serving-try__answer" role="status" data-testid="serving-try-answer" data-status={answer.status}>
              <p>
                <strong data-testid="serving-try-status">{answer.status >= 200 && answer.status < 300 ? `HTTP ${answer.status}` : answerError(answer)}</strong> ·{' '}
                <span data-testid="serving-try-latency">{formatLatency(answer.ms)}</span>
              </p>
              <pre class="copy-text__code" tabIndex={0} data-testid="serving-try-output">
                {answerBody !== undefined ? JSON.stringify(answerBody, null, 2) : answer.text}
              </pre>
            </div>
          )}
        </>
      )}
      <h3 class="notebook-card__subtitle">Call it from your code</h3>
      <Segmented
        label="Client"
        options={[
          { value: 'curl', label: 'curl' },
          { value: 'requests', label: 'Python requests' },
          { value: 'sdk', label: 'paddlecloud SDK' },
        ]}
        value={snippet}
        onChange={setSnippet}
        testIdPrefix="serving-snippet"
      />
      <CopyText text={snippets[snippet]} label={`${snippet} snippet`} testId="serving-snippet-text" multiline />
      {!instance.public && (
        <p class="field__hint">
          Set <code>PADDLE_CLOUD_TOKEN</code> to an API token of your account (Settings → API tokens; an invoke-only token may call instances and nothing else).
        </p>
      )}
    </section>
  );
}
