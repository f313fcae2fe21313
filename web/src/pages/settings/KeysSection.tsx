import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import type { Certificate } from '../../api/account';
import type { Download } from '../../api/client';
import { RevokeDialog, useConfirmation } from '../../dialog';
import { bindField, SelectField, SuccessBanner, useForm } from '../../forms';
import { formatUnix, formatUnixDate } from '../../format';
import { DataTable, RevokeCell } from '../../table';
import type { SectionProps } from './common';
import { FormPanel, ListPanel, Section, useLoad } from './common';

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
  const revoking = useConfirmation<Certificate>();
  const revoke = async (cert: Certificate) => {
    await api.revokeCertificate(cert.serial);
    certificates.reload();
  };

  return (
    <Section
      title="SSL keys"
      description="A client certificate and its private key let the command line, the SDK and your tools sign in over TLS without a password. The download is a zip with the certificate, its private key, the platform's CA certificate and a README. PaddleCloud keeps no copy of the private key: store the file safely."
      testId="keys-section"
    >
      <CreateKeysPanel user={user} api={api} onCreated={certificates.reload} />
      <ListPanel title="Your certificates" loaded={certificates} what="certificates" empty="You have no client certificates.">
        {(items) => (
          <DataTable columns={['Serial', 'Issued to', 'Fingerprint', 'Expires', 'State']} actions testId="certificates-table">
            {items.map((cert) => (
              <CertificateRow key={cert.serial} cert={cert} onRevoke={() => revoking.ask(cert)} />
            ))}
          </DataTable>
        )}
      </ListPanel>
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

/** The static part of the form's panel. */
const KEYS_FORM = {
  title: 'Create keys',
  submitLabel: 'Create and download',
  pendingLabel: 'Creating…',
  testIds: { panel: 'keys-create-panel', error: 'keys-error', form: 'keys-form', submit: 'keys-submit' },
};

function CreateKeysPanel({ user, api, onCreated }: SectionProps & { onCreated: () => void }): VNode {
  const [validity, setValidity] = useState('365');
  const [saved, setSaved] = useState<string | null>(null);
  const form = useForm(['valid_days'] as const, 'keys');
  const onSubmit = () =>
    form.submit(async () => {
      setSaved(null);
      const download = await api.createCertificate(Number(validity));
      setSaved(saveDownload(download, `paddlecloud-${user.account_id}-keys.zip`));
      onCreated();
    });
  return (
    <FormPanel
      {...KEYS_FORM}
      form={form}
      onSubmit={onSubmit}
      notice={
        saved && (
          <SuccessBanner testId="keys-saved">
            Downloaded <strong>{saved}</strong>. Keep it private: anyone with the key can act as you until it expires or you revoke it.
          </SuccessBanner>
        )
      }
    >
      <SelectField
        id="keys-valid_days"
        label="Valid for"
        options={CERTIFICATE_VALIDITY_OPTIONS}
        {...bindField(form, 'valid_days', validity, setValidity)}
      />
    </FormPanel>
  );
}

const STATE_TAGS: Record<CertState, { class: string; label: string }> = {
  active: { class: 'tag tag--ok', label: 'Active' },
  revoked: { class: 'tag tag--bad', label: 'Revoked' },
  expired: { class: 'tag', label: 'Expired' },
};

function CertificateRow({ cert, onRevoke }: { cert: Certificate; onRevoke: () => void }): VNode {
  const state = stateOf(cert, Date.now() / 1000);
  return (
    <tr data-testid={`certificate-${cert.serial}`}>
      <td>
        <code title={cert.serial}>{shortHex(cert.serial, 12)}</code>
      </td>
      <td class="table__wrap" title={cert.subject}>
        {commonName(cert.subject)}
      </td>
      <td>
        <code title={`SHA-256 ${cert.fingerprint_sha256}`}>{shortHex(cert.fingerprint_sha256, 12)}</code>
      </td>
      <td title={`Valid from ${formatUnix(cert.not_before)} to ${formatUnix(cert.not_after)}`}>{formatUnixDate(cert.not_after)}</td>
      <td>
        <span
          class={STATE_TAGS[state].class}
          title={state === 'revoked' ? `Revoked ${formatUnix(cert.revoked_at)}` : undefined}
          data-testid="certificate-state"
        >
          {STATE_TAGS[state].label}
        </span>
      </td>
      {state === 'active' ? <RevokeCell onRevoke={onRevoke} testId="certificate-revoke" /> : <td class="table__actions" />}
    </tr>
  );
}
