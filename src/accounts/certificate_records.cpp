#include "accounts/certificate_records.h"

namespace paddlecloud::accounts {

Status CertificateRecords::RecordCertificate(const Principal& principal, const CertificateRecord& record,
                                             const RequestMeta& meta) {
  auto r = Tenant(ctx_.db(), principal).Execute(
      "INSERT INTO certificates (serial, user_id, account_id, subject, fingerprint_sha256, not_before, not_after, "
      "created_at) VALUES (?, ?, :account, ?, ?, ?, ?, ?)",
      {record.serial, principal.user_id, record.subject, record.fingerprint_sha256,
       record.not_before, record.not_after, ctx_.Now()});
  if (!r) return r.error();
  ctx_.Audit(principal.account_id, principal.user_id, principal.email, "certificate.created", meta,
        {{"serial", record.serial}});
  return Status::Ok();
}

Result<std::vector<CertificateRecord>> CertificateRecords::ListCertificates(const Principal& principal) {
  auto rows = Tenant(ctx_.db(), principal).Query(
      "SELECT serial, subject, fingerprint_sha256, not_before, not_after, revoked_at, created_at FROM certificates "
      "WHERE user_id = ? AND account_id = :account ORDER BY created_at DESC, serial", {principal.user_id});
  if (!rows) return Err(rows.error());
  std::vector<CertificateRecord> out;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    CertificateRecord c{.serial = rows->Text(i, "serial"), .subject = rows->Text(i, "subject"),
                        .fingerprint_sha256 = rows->Text(i, "fingerprint_sha256"),
                        .not_before = rows->Int(i, "not_before"), .not_after = rows->Int(i, "not_after"),
                        .revoked_at = std::nullopt, .created_at = rows->Int(i, "created_at")};
    if (!rows->IsNull(i, "revoked_at")) c.revoked_at = rows->Int(i, "revoked_at");
    out.push_back(std::move(c));
  }
  return out;
}

Status CertificateRecords::RevokeCertificate(const Principal& principal, const std::string& serial,
                                             const RequestMeta& meta) {
  auto r = Tenant(ctx_.db(), principal)
               .Execute("UPDATE certificates SET revoked_at = ? WHERE serial = ? AND user_id = ? "
                        "AND account_id = :account AND revoked_at IS NULL",
                        {ctx_.Now(), serial, principal.user_id});
  if (!r) return r.error();
  if (r->rows_affected == 0) return Status::NotFound("no active certificate with serial " + serial);
  ctx_.Audit(principal.account_id, principal.user_id, principal.email, "certificate.revoked", meta,
        {{"serial", serial}});
  return Status::Ok();
}

}  // namespace paddlecloud::accounts
