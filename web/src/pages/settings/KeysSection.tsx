import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import type { Certificate } from '../../api/account';
import type { Download } from '../../api/client';
import { RevokeDialog, useConfirmation } from '../../dialog';
import { ErrorBanner, Form, SelectField, SubmitButton, SuccessBanner, useForm } from '../../forms';
import { formatUnix, formatUnixDate } from '../../format';
import { DataTable, RowButton } from '../../table';
import type { SectionProps } from './common';
import { Panel, Section, useLoad } from './common';

export const CERTIFICATE_VALIDITY_OPTIONS = [
  { value: '30', label: '30 days' },
  { value: '90', label: '90 days' },
  { value: '365', label: '1 year' },
  { value: '730', label: '2 years' },
] as const;

/** Saves a downloaded file: an object URL clicked as a download link, released afterwards. */
export function saveDownload(download: Download, fallbackName: string): string {
  const filename = download.filename ?? fallbackName;
  const url = URL.createObjectURL(download.blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.rel = 'noopener';
  link.hidden = true;
  document.body.appendChild(link);
  try {
    link.click();
  } finally {
    link.remove();
    // The download has started from the click; give the browser a moment before releasing the bytes.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
  return filename;
}

function shortHex(text: string, keep = 16): string {
  const plain = text.replaceAll(':', '');
  return plain.length > keep ? `${plain.slice(0, keep)}…` : plain;
}

/** "CN=ada@example.com,OU=...,O=lab" -> "ada@example.com"; the whole subject when it has no CN. */
export function commonName(subject: string): string {
  const cn = /(?:^|[,/]\s*)CN=((?:\\.|[^,/])*)/.exec(subject);
  return cn ? cn[1]!.replace(/\\(.)/g, '$1') : subject;
}

type CertState = 'active' | 'expired' | 'revoked';

function stateOf(cert: Certificate, now: number): CertState {
  if (cert.revoked_at !== null) return 'revoked';
  return cert.not_after <= now ? 'expired' : 'active';
}

export function KeysSection({ user, api }: SectionProps): VNode {
  const certificates = useLoad((options) => api.listCertificates(options));
  const [validity, setValidity] = useState('365');
  const [saved, setSaved] = useState<string | null>(null);
  const form = useForm(['valid_days'] as const, 'keys');
  const revoking = useConfirmation<Certificate>();
  const now = Date.now() / 1000;

  const onSubmit = () =>
    form.submit(async () => {
      setSaved(null);
      const download = await api.createCertificate(Number(validity));
      setSaved(saveDownload(download, `paddlecloud-${user.account_id}-keys.zip`));
      certificates.reload();
    });

  const revoke = async (cert: Certificate) => {
    await api.revokeCertificate(cert.serial);
    certificates.reload();
  };

  const items = certificates.data?.items ?? [];

  return (
    <Section
      title="SSL keys"
      description="A client certificate and its private key let the command line, the SDK and your tools sign in over TLS without a password. The download is a zip with the certificate, its private key, the platform's CA certificate and a README. PaddleCloud keeps no copy of the private key: store the file safely."
      testId="keys-section"
    >
      <Panel title="Create keys" testId="keys-create-panel">
        {saved && (
          <SuccessBanner testId="keys-saved">
            Downloaded <strong>{saved}</strong>. Keep it private: anyone with the key can act as you until it expires or you revoke it.
          </SuccessBanner>
        )}
        {form.banner && <ErrorBanner error={form.banner} testId="keys-error" />}
        <Form onSubmit={() => void onSubmit()} class="form form--inline" testId="keys-form" label="Create keys">
          <SelectField
            id="keys-valid_days"
            label="Valid for"
            value={validity}
            onValue={setValidity}
            options={CERTIFICATE_VALIDITY_OPTIONS}
            error={form.errors.valid_days}
          />
          <SubmitButton pending={form.pending} pendingLabel="Creating…" testId="keys-submit">
            Create and download
          </SubmitButton>
        </Form>
      </Panel>

      <Panel title="Your certificates">
        {certificates.error && <ErrorBanner error={certificates.error} testId="certificates-error" />}
        {certificates.data === undefined && certificates.loading ? (
          <p class="loading">Loading certificates…</p>
        ) : certificates.error && certificates.data === undefined ? null : items.length === 0 ? (
          <p class="muted" data-testid="certificates-empty">
            You have no client certificates.
          </p>
        ) : (
          <DataTable columns={['Serial', 'Issued to', 'Fingerprint', 'Expires', 'State']} actions testId="certificates-table">
            {items.map((cert) => {
              const state = stateOf(cert, now);
              return (
                <tr key={cert.serial} data-testid={`certificate-${cert.serial}`}>
                  <td>
                    <code title={cert.serial}>{shortHex(cert.serial, 12)}</code>
                  </td>
                  <td class="table__wrap" title={cert.subject}>
                    {commonName(cert.subject)}
                  </td>
                  <td>
                    <code title={`SHA-256 ${cert.fingerprint_sha256}`}>{shortHex(cert.fingerprint_sha256, 12)}</code>
                  </td>
                  <td title={`Valid from ${formatUnix(cert.not_before)} to ${formatUnix(cert.not_after)}`}>
                    {formatUnixDate(cert.not_after)}
                  </td>
                  <td>
                    <span
                      class={state === 'active' ? 'tag tag--ok' : state === 'revoked' ? 'tag tag--bad' : 'tag'}
                      title={state === 'revoked' ? `Revoked ${formatUnix(cert.revoked_at)}` : undefined}
                      data-testid="certificate-state"
                    >
                      {state === 'active' ? 'Active' : state === 'revoked' ? 'Revoked' : 'Expired'}
                    </span>
                  </td>
                  <td class="table__actions">
                    {state === 'active' && (
                      <RowButton danger onClick={() => revoking.ask(cert)} testId="certificate-revoke">
                        Revoke
                      </RowButton>
                    )}
                  </td>
                </tr>
              );
            })}
          </DataTable>
        )}
      </Panel>

      <RevokeDialog confirmation={revoking} revoke={revoke} title="Revoke this certificate?" confirmLabel="Revoke certificate">
        {(cert) => (
          <p>
            The certificate <code>{shortHex(cert.serial, 12)}</code> (valid until {formatUnixDate(cert.not_after)}) stops
            working at once, wherever its key is installed. This cannot be undone.
          </p>
        )}
      </RevokeDialog>
    </Section>
  );
}
