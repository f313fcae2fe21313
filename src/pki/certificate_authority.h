// CertificateAuthority: the platform's own CA and the per-user client certificates it issues
// ("Download SSL keys" in the product brief), on OpenSSL 3.
//
// The CA is an EC P-256 key plus a self-signed certificate (CN "PaddleCloud CA", 10 years), kept as
// PEM files in `<data_dir>/ca/` (or given by configuration). It issues client certificates with a
// fresh EC P-256 key each: subject CN=<user email>, OU=paddlecloud-user, O=<account id>, extended key
// usage clientAuth only. The private key of an issued certificate is returned once, to be handed to
// the user (key_bundle.h) and never stored by the platform; this module never logs key material.
//
// This module keeps no database state. Whoever issues (the accounts service) records the serial and
// metadata; revocation is the caller's job too: authenticate a TLS peer with PeerCertificateSerial()
// (or VerifiedPeerOf()) and then look the serial up, refusing one that is revoked or unknown.
//
// Serial numbers are rendered as lowercase hex of the positive integer, without leading zeros; the
// serials this CA issues are random 128-bit numbers with the top bit set, so always 32 characters.
//
// OpenSSL types stay out of this header: native objects cross it as void* (an SSL_CTX*, SSL*, X509*).
//
// Thread safety: once opened, every method may be called from many threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace paddlecloud::pki {

// A freshly issued client certificate together with its private key.
struct IssuedCertificate {
  std::string serial_hex;          // see the header comment: 32 lowercase hex characters
  std::string certificate_pem;     // "-----BEGIN CERTIFICATE-----..." (the leaf only)
  std::string private_key_pem;     // unencrypted PKCS#8 "-----BEGIN PRIVATE KEY-----...": secret
  std::string subject;             // RFC 2253 form, e.g. "CN=ann@example.com,OU=paddlecloud-user,O=acme"
  std::string fingerprint_sha256;  // SHA-256 of the DER certificate, 64 lowercase hex characters
  std::int64_t not_before_unix = 0;
  std::int64_t not_after_unix = 0;
};

// The identity a verified client certificate carries.
struct VerifiedPeer {
  std::string serial_hex;
  std::string fingerprint_sha256;  // of the whole DER certificate: what identifies it (a serial alone
                                   // can be copied into another certificate signed with the CA key)
  std::string email;       // subject CN
  std::string account_id;  // subject O
  std::int64_t not_after_unix = 0;
};

class CertificateAuthority {
 public:
  // Opens the CA kept in `ca_dir`, creating it on first use:
  //  - the directory is created (mode 0700) when missing;
  //  - neither `ca.key` nor `ca.crt` exists: a new key (mode 0600) and self-signed certificate (mode
  //    0644) are generated and written atomically (temp file + fsync + rename), key first;
  //  - both exist: they are loaded (as Open() does);
  //  - `ca.key` exists but `ca.crt` does not (a crash between the two renames, or a deleted cert):
  //    a new self-signed certificate is made for the existing key, so certificates issued before
  //    still verify (same issuer name and key);
  //  - `ca.crt` exists but `ca.key` does not: refused, nothing is overwritten.
  // Concurrent callers on one directory (several processes) are serialised by an flock on
  // `<ca_dir>/.lock`, so they all end up with the same CA.
  // Errors: kUnavailable when a file or the directory cannot be read, created or written; kInvalidArgument
  // when a file's content is not a usable CA (not PEM, not a CA certificate, key and certificate do
  // not match). Every message names the file concerned. Blocking: run on the blocking pool.
  static Result<std::unique_ptr<CertificateAuthority>> OpenOrCreate(const std::string& ca_dir);

  // Loads a configured CA from PEM files (never creates anything). The certificate must be a CA
  // (basicConstraints CA:TRUE) that can sign certificates, and the key must be its private key.
  // Errors as OpenOrCreate.
  static Result<std::unique_ptr<CertificateAuthority>> Open(const std::string& cert_file,
                                                           const std::string& key_file);

  ~CertificateAuthority();
  CertificateAuthority(const CertificateAuthority&) = delete;
  CertificateAuthority& operator=(const CertificateAuthority&) = delete;

  // The CA certificate, PEM (what clients put in --cacert; identical across reopenings).
  std::string ca_certificate_pem() const;

  // Issues a client certificate valid from five minutes ago (clock skew) until `valid_days` days
  // from now. Inputs: `user_email` and `account_id` non-empty, valid UTF-8, no control characters,
  // at most 64 characters each (the X.509 upper bound for CN and O); 1 <= valid_days <= 3650.
  // Bad input -> kInvalidArgument with field() "user_email", "account_id" or "valid_days".
  // Other failures (the RNG, OpenSSL) -> kInternal.
  Result<IssuedCertificate> IssueClientCertificate(const std::string& user_email, const std::string& account_id,
                                                   int valid_days) const;

  // As IssueClientCertificate, with an explicit validity period in Unix seconds (not_before <
  // not_after, else kInvalidArgument field "not_after"); the period may lie in the past or the
  // future. Meant for tests and for re-issuing with a fixed end date.
  Result<IssuedCertificate> IssueClientCertificateForPeriod(const std::string& user_email,
                                                            const std::string& account_id,
                                                            std::int64_t not_before_unix,
                                                            std::int64_t not_after_unix) const;

  // Issues a TLS server certificate (fresh EC P-256 key, extended key usage serverAuth) for
  // `common_name` with subjectAltNames for each IP address and DNS name given (at least one in all),
  // valid from five minutes ago for `valid_days` days. Meant for test servers (a test Kubernetes API
  // server on 127.0.0.1). Bad input -> kInvalidArgument; OpenSSL failures -> kInternal.
  Result<IssuedCertificate> IssueServerCertificate(const std::string& common_name,
                                                   const std::vector<std::string>& ip_addresses,
                                                   const std::vector<std::string>& dns_names,
                                                   int valid_days) const;

  // Verifies a client certificate (one PEM certificate; extra PEM blocks after the first are
  // ignored) against this CA alone: signed by this CA directly, inside its validity period now,
  // extended key usage present and including clientAuth, usable for TLS client auth (keyUsage), and
  // a subject with CN and O. Returns the identity it carries. Any failure -> kUnauthenticated with
  // the reason (unparsable input included). Does not consult revocation: see the header comment.
  Result<VerifiedPeer> VerifyClientCertificate(const std::string& certificate_pem) const;
  // The same for DER bytes.
  Result<VerifiedPeer> VerifyClientCertificateDer(std::string_view certificate_der) const;
  // The same for a native `X509*` (borrowed; not freed). nullptr -> kUnauthenticated.
  Result<VerifiedPeer> VerifyClientCertificateX509(void* x509) const;

  // Configures an OpenSSL server `SSL_CTX*` (for Asio: ssl::context::native_handle()) to request,
  // but not require, a client certificate issued by this CA:
  //  - SSL_VERIFY_PEER without SSL_VERIFY_FAIL_IF_NO_PEER_CERT, and a verify callback that never
  //    aborts the handshake: a client without a certificate, or with one that fails verification
  //    (another CA, expired, wrong usage), still connects, and PeerCertificateSerial() then answers
  //    nullopt (the request can still authenticate with a cookie or bearer token);
  //  - the peer-verification trust store is this CA's certificate only (SSL_CTX_set1_verify_cert_store,
  //    so the server's own chain-building store is left alone); verify depth 1;
  //  - the CA's name is sent in the CertificateRequest, so curl and browsers offer the right cert;
  //  - a session id context is set (required for session resumption with client certificates).
  // Errors: nullptr or an OpenSSL failure -> kInternal.
  Status ConfigureServerContext(void* native_ssl_ctx) const;

  // After the handshake on a connection whose SSL_CTX went through ConfigureServerContext: the
  // serial of the client's certificate when the client presented one and it verified
  // (SSL_get_verify_result == X509_V_OK), carries extended key usage clientAuth and a subject with
  // CN and O; otherwise nullopt (no certificate, verification failed, nullptr). Only meaningful on
  // an SSL_CTX configured as above: the verify result is all it has to go on.
  static std::optional<std::string> PeerCertificateSerial(void* native_ssl);
  // As PeerCertificateSerial, with the whole identity (CN, O, end of validity).
  static std::optional<VerifiedPeer> VerifiedPeerOf(void* native_ssl);
  // Why the peer's certificate was not accepted, for logs and error messages ("certificate has
  // expired"); empty when it verified or when no certificate was presented.
  static std::string PeerVerificationError(void* native_ssl);

  struct Impl;  // opaque: keeps OpenSSL out of this header

 private:
  explicit CertificateAuthority(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace paddlecloud::pki
