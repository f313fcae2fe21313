#include "pki/certificate_authority.h"
#include "pki/openssl_handles.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <utility>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "common/fs.h"

namespace paddlecloud::pki {
namespace {

constexpr const char* kCaCommonName = "PaddleCloud CA";
constexpr const char* kCaOrganization = "PaddleCloud";
constexpr const char* kUserUnit = "paddlecloud-user";
constexpr std::int64_t kCaValiditySeconds = 3650LL * 24 * 3600;  // 10 years
constexpr std::int64_t kClockSkewSeconds = 5 * 60;
constexpr int kMaxValidDays = 3650;
constexpr std::size_t kMaxNameChars = 64;  // ub-common-name / ub-organization-name (RFC 5280)
constexpr int kSerialBits = 128;
constexpr unsigned char kSessionIdContext[] = "paddlecloud-client-auth";

// The most recent OpenSSL error (then clears the queue). Never contains key material.
std::string OpenSslError() {
  unsigned long last = 0;
  while (unsigned long e = ERR_get_error()) last = e;
  if (last == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(last, buf, sizeof buf);
  return buf;
}

Status InternalError(const std::string& what) { return Status::Internal(what + ": " + OpenSslError()); }

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

// Wipes a memory BIO that held secret bytes before it is freed.
void CleanseBio(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len > 0 && data != nullptr) OPENSSL_cleanse(data, static_cast<std::size_t>(len));
}

std::string ToLowerHex(const unsigned char* bytes, std::size_t n) {
  return fsutil::ToHex(std::string_view(reinterpret_cast<const char*>(bytes), n));
}

// ---- files ----------------------------------------------------------------------------------

using fsutil::ErrnoText;

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

Result<std::string> ReadFile(const std::string& path, const std::string& what) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Err(Status::Unavailable("cannot read " + what + " " + path + ": " + ErrnoText(errno)));
  std::string data;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      OPENSSL_cleanse(buf, sizeof buf);
      return Err(Status::Unavailable("cannot read " + what + " " + path + ": " + ErrnoText(err)));
    }
    if (n == 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  OPENSSL_cleanse(buf, sizeof buf);
  ::close(fd);
  return data;
}

// Writes `data` to `path` atomically and durably with exactly `mode` (common/fs.h).
Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode, const std::string& what) {
  Status written = fsutil::WriteFileAtomic(path, data, {.mode = static_cast<int>(mode)});
  return written.ok() ? written : Status::Unavailable(what + ": " + written.message());
}

// Holds an exclusive flock on a file for its lifetime.
class FileLock {
 public:
  static Result<FileLock> Acquire(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return Err(Status::Unavailable("cannot open lock file " + path + ": " + ErrnoText(errno)));
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return Err(Status::Unavailable("cannot lock " + path + ": " + ErrnoText(err)));
    }
    return FileLock(fd);
  }
  FileLock(FileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileLock& operator=(FileLock&&) = delete;
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

// ---- PEM / DER ------------------------------------------------------------------------------

// Refuses to prompt for a passphrase (the default callback would read the terminal).
int NoPassphrase(char*, int, int, void*) { return -1; }

X509Ptr ParseCertificatePem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr));
}

PkeyPtr ParsePrivateKeyPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  return PkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
}

Result<std::string> CertificateToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return Err(InternalError("cannot encode certificate"));
  return BioContents(bio.get());
}

Result<std::string> PrivateKeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return Err(InternalError("cannot encode private key"));
  // PKCS#8, unencrypted.
  if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    CleanseBio(bio.get());
    return Err(InternalError("cannot encode private key"));
  }
  std::string pem = BioContents(bio.get());
  CleanseBio(bio.get());
  return pem;
}

// ---- certificate fields ---------------------------------------------------------------------

std::string SerialHex(const X509* cert) {
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert);
  BnPtr bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) return "";
  char* hex = BN_bn2hex(bn.get());
  if (hex == nullptr) return "";
  std::string out(hex);
  OPENSSL_free(hex);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // BN_bn2hex pads to whole bytes ("0A"); drop leading zeros but keep "0".
  std::size_t start = 0;
  bool negative = !out.empty() && out[0] == '-';
  if (negative) start = 1;
  std::size_t first = out.find_first_not_of('0', start);
  if (first == std::string::npos) return "0";
  return (negative ? "-" : "") + out.substr(first);
}

std::string FingerprintSha256(const X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &len) != 1) return "";
  return ToLowerHex(md, len);
}

std::int64_t AsnTimeToUnix(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<std::int64_t>(::timegm(&tm));
}

std::string NameToString(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return "";
  // RFC 2253, but UTF-8 passes through instead of being escaped as \XX.
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  return BioContents(bio.get());
}

// The (first) entry `nid` of `name` as UTF-8; nullopt when absent or not decodable.
std::optional<std::string> NameEntry(const X509_NAME* name, int nid) {
  int idx = X509_NAME_get_index_by_NID(name, nid, -1);
  if (idx < 0) return std::nullopt;
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

bool HasClientAuthUsage(X509* cert) {
  return (X509_get_extension_flags(cert) & EXFLAG_XKUSAGE) != 0 &&
         (X509_get_extended_key_usage(cert) & XKU_SSL_CLIENT) != 0;
}

std::optional<VerifiedPeer> IdentityOf(X509* cert) {
  const X509_NAME* subject = X509_get_subject_name(cert);
  auto email = NameEntry(subject, NID_commonName);
  auto account = NameEntry(subject, NID_organizationName);
  if (!email || !account || email->empty() || account->empty()) return std::nullopt;
  VerifiedPeer peer;
  peer.serial_hex = SerialHex(cert);
  peer.fingerprint_sha256 = FingerprintSha256(cert);
  peer.email = std::move(*email);
  peer.account_id = std::move(*account);
  peer.not_after_unix = AsnTimeToUnix(X509_get0_notAfter(cert));
  return peer;
}

std::string VerifyErrorText(long err) {
  switch (err) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      return "not issued by this PaddleCloud CA (" + std::string(X509_verify_cert_error_string(err)) + ")";
    default:
      return X509_verify_cert_error_string(err);
  }
}

// ---- building certificates ------------------------------------------------------------------

Status AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return InternalError(std::string("cannot add extension ") + OBJ_nid2sn(nid));
  }
  return Status::Ok();
}

Status SetRandomSerial(X509* cert) {
  BnPtr bn(BN_new());
  // Exactly 128 bits with the top bit set: positive, non-zero, always 32 hex digits.
  if (!bn || BN_rand(bn.get(), kSerialBits, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) != 1) {
    return InternalError("cannot generate a serial number");
  }
  ASN1_INTEGER* serial = X509_get_serialNumber(cert);
  if (BN_to_ASN1_INTEGER(bn.get(), serial) == nullptr) return InternalError("cannot set the serial number");
  return Status::Ok();
}

Status SetValidity(X509* cert, std::int64_t not_before, std::int64_t not_after) {
  if (ASN1_TIME_set(X509_getm_notBefore(cert), static_cast<time_t>(not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert), static_cast<time_t>(not_after)) == nullptr) {
    return InternalError("cannot set the validity period");
  }
  return Status::Ok();
}

Status AddNameEntry(X509_NAME* name, int nid, const std::string& value) {
  if (X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value.data()),
                                 static_cast<int>(value.size()), -1, 0) != 1) {
    return InternalError(std::string("cannot set subject ") + OBJ_nid2sn(nid));
  }
  return Status::Ok();
}

// Ed25519/Ed448 sign without a separate digest; everything else with SHA-256.
const EVP_MD* SigningDigest(EVP_PKEY* key) {
  int id = EVP_PKEY_get_id(key);
  return (id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448) ? nullptr : EVP_sha256();
}

std::int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<PkeyPtr> GenerateKey() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return Err(InternalError("cannot generate an EC P-256 key"));
  return key;
}

// A self-signed CA certificate for `key`.
Result<X509Ptr> MakeCaCertificate(EVP_PKEY* key) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) return Err(InternalError("cannot create certificate"));
  PC_RETURN_IF_ERROR(SetRandomSerial(cert.get()));
  NamePtr name(X509_NAME_new());
  if (!name) return Err(InternalError("cannot create name"));
  PC_RETURN_IF_ERROR(AddNameEntry(name.get(), NID_organizationName, kCaOrganization));
  PC_RETURN_IF_ERROR(AddNameEntry(name.get(), NID_commonName, kCaCommonName));
  if (X509_set_subject_name(cert.get(), name.get()) != 1 || X509_set_issuer_name(cert.get(), name.get()) != 1) {
    return Err(InternalError("cannot set CA name"));
  }
  std::int64_t now = NowUnix();
  PC_RETURN_IF_ERROR(SetValidity(cert.get(), now - kClockSkewSeconds, now + kCaValiditySeconds));
  if (X509_set_pubkey(cert.get(), key) != 1) return Err(InternalError("cannot set CA public key"));
  PC_RETURN_IF_ERROR(AddExtension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
  PC_RETURN_IF_ERROR(AddExtension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign"));
  PC_RETURN_IF_ERROR(AddExtension(cert.get(), cert.get(), NID_subject_key_identifier, "hash"));
  if (X509_sign(cert.get(), key, SigningDigest(key)) <= 0) return Err(InternalError("cannot sign CA certificate"));
  return cert;
}

// Decodes UTF-8; false on malformed input (overlong forms, surrogates, > U+10FFFF), on any control
// character (C0, DEL, C1), or when there are more than `max_chars` code points.
enum class TextProblem { kNone, kInvalidUtf8, kControl, kTooLong };
TextProblem CheckText(const std::string& s, std::size_t max_chars) {
  std::size_t chars = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    std::uint32_t cp;
    int extra;
    unsigned char c = *p;
    if (c < 0x80) {
      cp = c;
      extra = 0;
    } else if ((c & 0xe0) == 0xc0) {
      cp = c & 0x1f;
      extra = 1;
    } else if ((c & 0xf0) == 0xe0) {
      cp = c & 0x0f;
      extra = 2;
    } else if ((c & 0xf8) == 0xf0) {
      cp = c & 0x07;
      extra = 3;
    } else {
      return TextProblem::kInvalidUtf8;
    }
    if (end - p <= extra) return TextProblem::kInvalidUtf8;
    for (int i = 1; i <= extra; ++i) {
      if ((p[i] & 0xc0) != 0x80) return TextProblem::kInvalidUtf8;
      cp = (cp << 6) | (p[i] & 0x3f);
    }
    static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return TextProblem::kInvalidUtf8;
    if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) return TextProblem::kControl;
    p += extra + 1;
    ++chars;
  }
  return chars > max_chars ? TextProblem::kTooLong : TextProblem::kNone;
}

Status ValidateNameField(const std::string& value, const std::string& field) {
  if (value.empty()) return Status::InvalidArgument(field + " must not be empty", field);
  switch (CheckText(value, kMaxNameChars)) {
    case TextProblem::kNone: return Status::Ok();
    case TextProblem::kInvalidUtf8: return Status::InvalidArgument(field + " is not valid UTF-8", field);
    case TextProblem::kControl: return Status::InvalidArgument(field + " must not contain control characters", field);
    case TextProblem::kTooLong:
      return Status::InvalidArgument(field + " must be at most " + std::to_string(kMaxNameChars) + " characters", field);
  }
  return Status::Ok();
}

// Never aborts the handshake; the outcome stays readable through SSL_get_verify_result.
int AcceptAnyVerifyCallback(int /*preverify_ok*/, X509_STORE_CTX* /*ctx*/) { return 1; }

}  // namespace

// ---- Impl -----------------------------------------------------------------------------------

struct CertificateAuthority::Impl {
  X509Ptr cert;
  PkeyPtr key;
  StorePtr store;  // trust store holding `cert` only
  std::string cert_pem;
  std::mutex sign_mu;  // issuance is rare; keep signing with the shared key strictly serial

  static Result<std::unique_ptr<Impl>> Load(const std::string& cert_file, const std::string& key_file);
  Result<VerifiedPeer> Verify(X509* leaf) const;
};

Result<std::unique_ptr<CertificateAuthority::Impl>> CertificateAuthority::Impl::Load(const std::string& cert_file,
                                                                                      const std::string& key_file) {
  auto cert_text = ReadFile(cert_file, "CA certificate");
  if (!cert_text) return Err(cert_text.error());
  auto key_text = ReadFile(key_file, "CA key");
  if (!key_text) return Err(key_text.error());

  auto impl = std::make_unique<Impl>();
  impl->cert = ParseCertificatePem(*cert_text);
  if (!impl->cert) {
    ERR_clear_error();
    return Err(Status::InvalidArgument("CA certificate " + cert_file + " is not a PEM certificate (corrupt?)"));
  }
  impl->key = ParsePrivateKeyPem(*key_text);
  OPENSSL_cleanse(key_text->data(), key_text->size());
  if (!impl->key) {
    ERR_clear_error();
    return Err(Status::InvalidArgument("CA key " + key_file +
                                       " is not an unencrypted PEM private key (corrupt or passphrase-protected?)"));
  }
  if (X509_check_ca(impl->cert.get()) == 0) {
    return Err(Status::InvalidArgument("CA certificate " + cert_file +
                                       " is not a CA certificate (needs basicConstraints CA:TRUE and keyCertSign)"));
  }
  if (X509_check_private_key(impl->cert.get(), impl->key.get()) != 1) {
    ERR_clear_error();
    return Err(Status::InvalidArgument("CA key " + key_file + " does not match CA certificate " + cert_file));
  }
  auto pem = CertificateToPem(impl->cert.get());
  if (!pem) return Err(pem.error());
  impl->cert_pem = std::move(*pem);
  impl->store.reset(X509_STORE_new());
  if (!impl->store || X509_STORE_add_cert(impl->store.get(), impl->cert.get()) != 1) {
    return Err(InternalError("cannot build the CA trust store"));
  }
  return impl;
}

Result<VerifiedPeer> CertificateAuthority::Impl::Verify(X509* leaf) const {
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf, nullptr) != 1) {
    ERR_clear_error();
    return Err(Status::Unauthenticated("client certificate could not be checked"));
  }
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
  X509_VERIFY_PARAM_set_depth(X509_STORE_CTX_get0_param(ctx.get()), 1);
  if (X509_verify_cert(ctx.get()) != 1) {
    long err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return Err(Status::Unauthenticated("client certificate rejected: " + VerifyErrorText(err)));
  }
  if (!HasClientAuthUsage(leaf)) {
    return Err(Status::Unauthenticated("client certificate rejected: extended key usage clientAuth missing"));
  }
  auto peer = IdentityOf(leaf);
  if (!peer) return Err(Status::Unauthenticated("client certificate rejected: subject lacks CN or O"));
  return *peer;
}

// ---- CertificateAuthority -------------------------------------------------------------------

CertificateAuthority::CertificateAuthority(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CertificateAuthority::~CertificateAuthority() = default;

Result<std::unique_ptr<CertificateAuthority>> CertificateAuthority::Open(const std::string& cert_file,
                                                                         const std::string& key_file) {
  auto impl = Impl::Load(cert_file, key_file);
  if (!impl) return Err(impl.error());
  return std::unique_ptr<CertificateAuthority>(new CertificateAuthority(std::move(*impl)));
}

Result<std::unique_ptr<CertificateAuthority>> CertificateAuthority::OpenOrCreate(const std::string& ca_dir) {
  if (ca_dir.empty()) return Err(Status::InvalidArgument("CA directory must not be empty", "ca_dir"));
  std::error_code ec;
  if (!std::filesystem::is_directory(ca_dir, ec)) {
    std::filesystem::path parent = std::filesystem::path(ca_dir).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (::mkdir(ca_dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return Err(Status::Unavailable("cannot create CA directory " + ca_dir + ": " + ErrnoText(errno)));
    }
  }
  const std::string cert_file = (std::filesystem::path(ca_dir) / "ca.crt").string();
  const std::string key_file = (std::filesystem::path(ca_dir) / "ca.key").string();

  auto lock = FileLock::Acquire((std::filesystem::path(ca_dir) / ".lock").string());
  if (!lock) return Err(lock.error());

  const bool have_cert = FileExists(cert_file);
  const bool have_key = FileExists(key_file);
  if (have_cert && !have_key) {
    return Err(Status::Unavailable("CA key " + key_file + " is missing but CA certificate " + cert_file +
                                   " exists: restore the key, or remove the certificate to start a new CA "
                                   "(certificates issued so far would stop verifying)"));
  }
  if (!have_cert) {
    PkeyPtr key;
    if (have_key) {
      auto key_text = ReadFile(key_file, "CA key");
      if (!key_text) return Err(key_text.error());
      key = ParsePrivateKeyPem(*key_text);
      OPENSSL_cleanse(key_text->data(), key_text->size());
      if (!key) {
        ERR_clear_error();
        return Err(Status::InvalidArgument("CA key " + key_file +
                                           " is not an unencrypted PEM private key (corrupt or passphrase-protected?)"));
      }
    } else {
      auto generated = GenerateKey();
      if (!generated) return Err(generated.error());
      key = std::move(*generated);
      auto key_pem = PrivateKeyToPem(key.get());
      if (!key_pem) return Err(key_pem.error());
      Status written = WriteFileAtomic(key_file, *key_pem, 0600, "CA key");
      OPENSSL_cleanse(key_pem->data(), key_pem->size());
      PC_RETURN_IF_ERROR(written);
    }
    auto cert = MakeCaCertificate(key.get());
    if (!cert) return Err(cert.error());
    auto cert_pem = CertificateToPem(cert->get());
    if (!cert_pem) return Err(cert_pem.error());
    PC_RETURN_IF_ERROR(WriteFileAtomic(cert_file, *cert_pem, 0644, "CA certificate"));
  }
  return Open(cert_file, key_file);
}

std::string CertificateAuthority::ca_certificate_pem() const { return impl_->cert_pem; }

Result<IssuedCertificate> CertificateAuthority::IssueClientCertificate(const std::string& user_email,
                                                                       const std::string& account_id,
                                                                       int valid_days) const {
  if (valid_days < 1 || valid_days > kMaxValidDays) {
    return Err(Status::InvalidArgument("valid_days must be between 1 and " + std::to_string(kMaxValidDays),
                                       "valid_days"));
  }
  std::int64_t now = NowUnix();
  return IssueClientCertificateForPeriod(user_email, account_id, now - kClockSkewSeconds,
                                         now + static_cast<std::int64_t>(valid_days) * 24 * 3600);
}

Result<IssuedCertificate> CertificateAuthority::IssueClientCertificateForPeriod(const std::string& user_email,
                                                                                const std::string& account_id,
                                                                                std::int64_t not_before_unix,
                                                                                std::int64_t not_after_unix) const {
  PC_RETURN_IF_ERROR(ValidateNameField(user_email, "user_email"));
  PC_RETURN_IF_ERROR(ValidateNameField(account_id, "account_id"));
  if (not_before_unix >= not_after_unix) {
    return Err(Status::InvalidArgument("not_after must be later than not_before", "not_after"));
  }

  auto key = GenerateKey();
  if (!key) return Err(key.error());
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) return Err(InternalError("cannot create certificate"));
  PC_RETURN_IF_ERROR(SetRandomSerial(cert.get()));
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(impl_->cert.get())) != 1) {
    return Err(InternalError("cannot set issuer"));
  }
  NamePtr name(X509_NAME_new());
  if (!name) return Err(InternalError("cannot create name"));
  PC_RETURN_IF_ERROR(AddNameEntry(name.get(), NID_organizationName, account_id));
  PC_RETURN_IF_ERROR(AddNameEntry(name.get(), NID_organizationalUnitName, kUserUnit));
  PC_RETURN_IF_ERROR(AddNameEntry(name.get(), NID_commonName, user_email));
  if (X509_set_subject_name(cert.get(), name.get()) != 1) return Err(InternalError("cannot set subject"));
  PC_RETURN_IF_ERROR(SetValidity(cert.get(), not_before_unix, not_after_unix));
  if (X509_set_pubkey(cert.get(), key->get()) != 1) return Err(InternalError("cannot set public key"));
  X509* issuer = impl_->cert.get();
  PC_RETURN_IF_ERROR(AddExtension(cert.get(), issuer, NID_basic_constraints, "critical,CA:FALSE"));
  PC_RETURN_IF_ERROR(AddExtension(cert.get(), issuer, NID_key_usage, "critical,digitalSignature"));
  PC_RETURN_IF_ERROR(AddExtension(cert.get(), issuer, NID_ext_key_usage, "clientAuth"));
  PC_RETURN_IF_ERROR(AddExtension(cert.get(), issuer, NID_subject_key_identifier, "hash"));
  PC_RETURN_IF_ERROR(AddExtension(cert.get(), issuer, NID_authority_key_identifier, "keyid:always"));
  {
    std::lock_guard<std::mutex> lock(impl_->sign_mu);
    if (X509_sign(cert.get(), impl_->key.get(), SigningDigest(impl_->key.get())) <= 0) {
      return Err(InternalError("cannot sign client certificate"));
    }
  }

  IssuedCertificate out;
  out.serial_hex = SerialHex(cert.get());
  auto cert_pem = CertificateToPem(cert.get());
  if (!cert_pem) return Err(cert_pem.error());
  out.certificate_pem = std::move(*cert_pem);
  auto key_pem = PrivateKeyToPem(key->get());
  if (!key_pem) return Err(key_pem.error());
  out.private_key_pem = std::move(*key_pem);
  out.subject = NameToString(X509_get_subject_name(cert.get()));
  out.fingerprint_sha256 = FingerprintSha256(cert.get());
  out.not_before_unix = AsnTimeToUnix(X509_get0_notBefore(cert.get()));
  out.not_after_unix = AsnTimeToUnix(X509_get0_notAfter(cert.get()));
  return out;
}

Result<IssuedCertificate> CertificateAuthority::IssueServerCertificate(const std::string& common_name,
                                                                       const std::vector<std::string>& ip_addresses,
                                                                       const std::vector<std::string>& dns_names,
                                                                       int valid_days) const {
  PC_RETURN_IF_ERROR(ValidateNameField(common_name, "common_name"));
  if (valid_days < 1 || valid_days > kMaxValidDays) {
    return Err(Status::InvalidArgument("valid_days must be between 1 and " + std::to_string(kMaxValidDays),
                                       "valid_days"));
  }
  std::string san;
  auto add_san = [&](const char* type, const std::string& value) -> Status {
    if (value.empty() || value.size() > 253 || value.find_first_of(", \t\r\n") != std::string::npos) {
      return Status::InvalidArgument("bad subjectAltName \"" + value + "\"", "subject_alt_names");
    }
    if (!san.empty()) san += ",";
    san += std::string(type) + ":" + value;
    return Status::Ok();
  };
  for (const auto& ip : ip_addresses) PC_RETURN_IF_ERROR(add_san("IP", ip));
  for (const auto& dns : dns_names) PC_RETURN_IF_ERROR(add_san("DNS", dns));
  if (san.empty()) return Err(Status::InvalidArgument("a server certificate needs a name", "subject_alt_names"));

  auto key = GenerateKey();
  if (!key) return Err(key.error());
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) return Err(InternalError("cannot create certificate"));
  PC_RETURN_IF_ERROR(SetRandomSerial(cert.get()));
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(impl_->cert.get())) != 1) {
    return Err(InternalError("cannot set issuer"));
  }
  NamePtr name(X509_NAME_new());
  if (!name) return Err(InternalError("cannot create name"));
  PC_RETURN_IF_ERROR(AddNameEntry(name.get(), NID_commonName, common_name));
  if (X509_set_subject_name(cert.get(), name.get()) != 1) return Err(InternalError("cannot set subject"));
  std::int64_t now = NowUnix();
  PC_RETURN_IF_ERROR(SetValidity(cert.get(), now - kClockSkewSeconds,
                                 now + static_cast<std::int64_t>(valid_days) * 24 * 3600));
  if (X509_set_pubkey(cert.get(), key->get()) != 1) return Err(InternalError("cannot set public key"));
  X509* issuer = impl_->cert.get();
  PC_RETURN_IF_ERROR(AddExtension(cert.get(), issuer, NID_basic_constraints, "critical,CA:FALSE"));
  PC_RETURN_IF_ERROR(AddExtension(cert.get(), issuer, NID_key_usage, "critical,digitalSignature,keyEncipherment"));
  PC_RETURN_IF_ERROR(AddExtension(cert.get(), issuer, NID_ext_key_usage, "serverAuth"));
  PC_RETURN_IF_ERROR(AddExtension(cert.get(), issuer, NID_subject_alt_name, san.c_str()));
  PC_RETURN_IF_ERROR(AddExtension(cert.get(), issuer, NID_subject_key_identifier, "hash"));
  PC_RETURN_IF_ERROR(AddExtension(cert.get(), issuer, NID_authority_key_identifier, "keyid:always"));
  {
    std::lock_guard<std::mutex> lock(impl_->sign_mu);
    if (X509_sign(cert.get(), impl_->key.get(), SigningDigest(impl_->key.get())) <= 0) {
      return Err(InternalError("cannot sign server certificate"));
    }
  }
  IssuedCertificate out;
  out.serial_hex = SerialHex(cert.get());
  auto cert_pem = CertificateToPem(cert.get());
  if (!cert_pem) return Err(cert_pem.error());
  out.certificate_pem = std::move(*cert_pem);
  auto key_pem = PrivateKeyToPem(key->get());
  if (!key_pem) return Err(key_pem.error());
  out.private_key_pem = std::move(*key_pem);
  out.subject = NameToString(X509_get_subject_name(cert.get()));
  out.fingerprint_sha256 = FingerprintSha256(cert.get());
  out.not_before_unix = AsnTimeToUnix(X509_get0_notBefore(cert.get()));
  out.not_after_unix = AsnTimeToUnix(X509_get0_notAfter(cert.get()));
  return out;
}

Result<VerifiedPeer> CertificateAuthority::VerifyClientCertificate(const std::string& certificate_pem) const {
  X509Ptr cert = ParseCertificatePem(certificate_pem);
  if (!cert) {
    ERR_clear_error();
    return Err(Status::Unauthenticated("client certificate is not a PEM certificate"));
  }
  return impl_->Verify(cert.get());
}

Result<VerifiedPeer> CertificateAuthority::VerifyClientCertificateDer(std::string_view certificate_der) const {
  const auto* p = reinterpret_cast<const unsigned char*>(certificate_der.data());
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(certificate_der.size())));
  if (!cert) {
    ERR_clear_error();
    return Err(Status::Unauthenticated("client certificate is not a DER certificate"));
  }
  return impl_->Verify(cert.get());
}

Result<VerifiedPeer> CertificateAuthority::VerifyClientCertificateX509(void* x509) const {
  if (x509 == nullptr) return Err(Status::Unauthenticated("no client certificate"));
  return impl_->Verify(static_cast<X509*>(x509));
}

Status CertificateAuthority::ConfigureServerContext(void* native_ssl_ctx) const {
  auto* ctx = static_cast<SSL_CTX*>(native_ssl_ctx);
  if (ctx == nullptr) return Status::Internal("ConfigureServerContext: SSL_CTX is null");
  StorePtr store(X509_STORE_new());
  if (!store || X509_STORE_add_cert(store.get(), impl_->cert.get()) != 1) {
    return InternalError("cannot build the client-certificate trust store");
  }
  if (SSL_CTX_set1_verify_cert_store(ctx, store.get()) != 1) {
    return InternalError("cannot set the client-certificate trust store");
  }
  STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
  X509_NAME* ca_name = X509_NAME_dup(X509_get_subject_name(impl_->cert.get()));
  if (names == nullptr || ca_name == nullptr || sk_X509_NAME_push(names, ca_name) == 0) {
    X509_NAME_free(ca_name);
    sk_X509_NAME_free(names);
    return InternalError("cannot set the client CA list");
  }
  SSL_CTX_set_client_CA_list(ctx, names);  // takes ownership
  if (SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof kSessionIdContext - 1) != 1) {
    return InternalError("cannot set the session id context");
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, AcceptAnyVerifyCallback);
  SSL_CTX_set_verify_depth(ctx, 1);
  return Status::Ok();
}

std::optional<VerifiedPeer> CertificateAuthority::VerifiedPeerOf(void* native_ssl) {
  auto* ssl = static_cast<SSL*>(native_ssl);
  if (ssl == nullptr) return std::nullopt;
  X509* peer = SSL_get0_peer_certificate(ssl);
  if (peer == nullptr) return std::nullopt;
  if (SSL_get_verify_result(ssl) != X509_V_OK) return std::nullopt;
  if (!HasClientAuthUsage(peer)) return std::nullopt;
  return IdentityOf(peer);
}

std::optional<std::string> CertificateAuthority::PeerCertificateSerial(void* native_ssl) {
  auto peer = VerifiedPeerOf(native_ssl);
  if (!peer) return std::nullopt;
  return std::move(peer->serial_hex);
}

std::string CertificateAuthority::PeerVerificationError(void* native_ssl) {
  auto* ssl = static_cast<SSL*>(native_ssl);
  if (ssl == nullptr || SSL_get0_peer_certificate(ssl) == nullptr) return "";
  long result = SSL_get_verify_result(ssl);
  if (result != X509_V_OK) return VerifyErrorText(result);
  if (!HasClientAuthUsage(SSL_get0_peer_certificate(ssl))) return "extended key usage clientAuth missing";
  if (!IdentityOf(SSL_get0_peer_certificate(ssl))) return "subject lacks CN or O";
  return "";
}

}  // namespace paddlecloud::pki
