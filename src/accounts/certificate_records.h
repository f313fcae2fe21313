// CertificateRecords: the records of users' client certificates (the cryptography is pki/'s; the
// server keeps no private key). SignIn::AuthenticateCertificate reads them. Blocking: call on the
// blocking pool.
#pragma once

#include <string>
#include <vector>

#include "accounts/account_context.h"
#include "accounts/account_types.h"
#include "common/principal.h"
#include "common/status.h"

namespace paddlecloud::accounts {

class CertificateRecords {
 public:
  explicit CertificateRecords(AccountContext& ctx) : ctx_(ctx) {}

  Status RecordCertificate(const Principal& principal, const CertificateRecord& record, const RequestMeta& meta);
  Result<std::vector<CertificateRecord>> ListCertificates(const Principal& principal);
  Status RevokeCertificate(const Principal& principal, const std::string& serial, const RequestMeta& meta);

 private:
  AccountContext& ctx_;
};

}  // namespace paddlecloud::accounts
