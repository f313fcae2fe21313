#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "pki/certificate_authority.h"
#include "pki/openssl_handles.h"
#include "pki/key_bundle.h"

namespace paddlecloud::pki {
namespace {

namespace fs = std::filesystem;

// ---- helpers --------------------------------------------------------------------------------

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "pki_test.XXXXXX").string();
    char* made = ::mkdtemp(tmpl.data());
    EXPECT_NE(made, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (fs::path(path_) / name).string(); }

 private:
  std::string path_;
};


std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteAll(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

X509Ptr ParseCert(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

PkeyPtr ParseKey(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return PkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

std::string ToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::string Entry(X509_NAME* name, int nid) {
  int idx = X509_NAME_get_index_by_NID(name, nid, -1);
  if (idx < 0) return "<absent>";
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

bool ExtensionCritical(X509* cert, int nid) {
  int idx = X509_get_ext_by_NID(cert, nid, -1);
  return idx >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert, idx)) == 1;
}

std::int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t ToUnix(const ASN1_TIME* t) {
  struct tm tm {};
  ASN1_TIME_to_tm(t, &tm);
  return static_cast<std::int64_t>(timegm(&tm));
}

std::unique_ptr<CertificateAuthority> MustOpen(const std::string& dir) {
  auto ca = CertificateAuthority::OpenOrCreate(dir);
  EXPECT_TRUE(ca.has_value()) << (ca ? "" : ca.error().ToString());
  return ca ? std::move(*ca) : nullptr;
}

struct KeyAndCert {
  PkeyPtr key;
  X509Ptr cert;
};

void AddExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(ext, nullptr);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for a new P-256 key, signed by (issuer, issuer_key), or self-signed when null.
KeyAndCert MakeCert(const std::string& cn, const std::string& o, X509* issuer, EVP_PKEY* issuer_key,
                    const char* eku, std::int64_t not_before, std::int64_t not_after) {
  KeyAndCert out;
  out.key.reset(EVP_EC_gen("P-256"));
  out.cert.reset(X509_new());
  X509* c = out.cert.get();
  X509_set_version(c, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(c), 4242);
  X509_NAME* name = X509_get_subject_name(c);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(o.c_str()), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name);
  ASN1_TIME_set(X509_getm_notBefore(c), static_cast<time_t>(not_before));
  ASN1_TIME_set(X509_getm_notAfter(c), static_cast<time_t>(not_after));
  X509_set_pubkey(c, out.key.get());
  X509* iss = issuer ? issuer : c;
  AddExt(c, iss, NID_basic_constraints, "critical,CA:FALSE");
  AddExt(c, iss, NID_key_usage, "critical,digitalSignature");
  if (eku) AddExt(c, iss, NID_ext_key_usage, eku);
  AddExt(c, iss, NID_subject_key_identifier, "hash");
  if (issuer) AddExt(c, iss, NID_authority_key_identifier, "keyid:always");
  X509_sign(c, issuer_key ? issuer_key : out.key.get(), EVP_sha256());
  return out;
}

// ---- CA lifecycle ---------------------------------------------------------------------------

TEST(CertificateAuthorityTest, CreatesCaOnFirstOpen) {
  TempDir tmp;
  const std::string dir = tmp / "data/ca";  // parents are created too
  auto ca = MustOpen(dir);
  ASSERT_TRUE(ca);

  struct stat st;
  ASSERT_EQ(::stat((dir + "/ca.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((dir + "/ca.crt").c_str(), &st), 0);
  EXPECT_EQ(ReadAll(dir + "/ca.crt"), ca->ca_certificate_pem());
  // No temp files left behind.
  for (const auto& e : fs::directory_iterator(dir)) {
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  }

  X509Ptr cert = ParseCert(ca->ca_certificate_pem());
  ASSERT_TRUE(cert);
  EXPECT_EQ(Entry(X509_get_subject_name(cert.get()), NID_commonName), "PaddleCloud CA");
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(cert.get()), X509_get_issuer_name(cert.get())), 0);
  EXPECT_EQ(X509_check_ca(cert.get()), 1);
  EXPECT_TRUE(ExtensionCritical(cert.get(), NID_basic_constraints));
  EXPECT_TRUE(X509_get_key_usage(cert.get()) & KU_KEY_CERT_SIGN);
  EXPECT_TRUE(X509_get_key_usage(cert.get()) & KU_CRL_SIGN);
  EXPECT_FALSE(X509_get_key_usage(cert.get()) & KU_DIGITAL_SIGNATURE);
  EXPECT_NE(X509_get0_subject_key_id(cert.get()), nullptr);
  EXPECT_EQ(X509_verify(cert.get(), X509_get0_pubkey(cert.get())), 1);  // self-signed
  std::int64_t lifetime = ToUnix(X509_get0_notAfter(cert.get())) - Now();
  EXPECT_GT(lifetime, 3649LL * 86400);
  EXPECT_LE(lifetime, 3650LL * 86400 + 10);
  BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr);
  EXPECT_EQ(BN_num_bits(serial), 128);
  BN_free(serial);

  PkeyPtr key = ParseKey(ReadAll(dir + "/ca.key"));
  ASSERT_TRUE(key);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
}

TEST(CertificateAuthorityTest, ReopensTheSameCa) {
  TempDir tmp;
  auto first = MustOpen(tmp.path());
  ASSERT_TRUE(first);
  auto issued = first->IssueClientCertificate("ann@example.com", "acme", 30);
  ASSERT_TRUE(issued) << issued.error().ToString();
  const std::string key_before = ReadAll(tmp / "ca.key");
  first.reset();

  auto second = MustOpen(tmp.path());
  ASSERT_TRUE(second);
  EXPECT_EQ(second->ca_certificate_pem(), ReadAll(tmp / "ca.crt"));
  EXPECT_EQ(ReadAll(tmp / "ca.key"), key_before);
  EXPECT_TRUE(second->VerifyClientCertificate(issued->certificate_pem));
}

TEST(CertificateAuthorityTest, SameCaAcrossConcurrentFirstOpens) {
  TempDir tmp;
  std::vector<std::string> pems(4);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < pems.size(); ++i) {
    threads.emplace_back([&, i] {
      auto ca = CertificateAuthority::OpenOrCreate(tmp.path());
      if (ca) pems[i] = (*ca)->ca_certificate_pem();
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& pem : pems) EXPECT_EQ(pem, pems[0]);
  EXPECT_FALSE(pems[0].empty());
}

TEST(CertificateAuthorityTest, CorruptKeyFileIsAClearError) {
  TempDir tmp;
  ASSERT_TRUE(MustOpen(tmp.path()));
  WriteAll(tmp / "ca.key", "-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n");
  auto ca = CertificateAuthority::OpenOrCreate(tmp.path());
  ASSERT_FALSE(ca);
  EXPECT_EQ(ca.error().code(), Code::kInvalidArgument);
  EXPECT_NE(ca.error().message().find(tmp / "ca.key"), std::string::npos) << ca.error().message();
}

TEST(CertificateAuthorityTest, CorruptCertificateFileIsAClearError) {
  TempDir tmp;
  ASSERT_TRUE(MustOpen(tmp.path()));
  WriteAll(tmp / "ca.crt", "not a certificate");
  auto ca = CertificateAuthority::OpenOrCreate(tmp.path());
  ASSERT_FALSE(ca);
  EXPECT_EQ(ca.error().code(), Code::kInvalidArgument);
  EXPECT_NE(ca.error().message().find(tmp / "ca.crt"), std::string::npos) << ca.error().message();
}

TEST(CertificateAuthorityTest, MismatchedKeyAndCertificateAreRefused) {
  TempDir a, b;
  ASSERT_TRUE(MustOpen(a.path()));
  ASSERT_TRUE(MustOpen(b.path()));
  fs::copy_file(b / "ca.key", a / "ca.key", fs::copy_options::overwrite_existing);
  auto ca = CertificateAuthority::OpenOrCreate(a.path());
  ASSERT_FALSE(ca);
  EXPECT_EQ(ca.error().code(), Code::kInvalidArgument);
  EXPECT_NE(ca.error().message().find("does not match"), std::string::npos) << ca.error().message();
  EXPECT_NE(ca.error().message().find(a / "ca.key"), std::string::npos);
}

TEST(CertificateAuthorityTest, MissingKeyIsRefusedWithoutOverwriting) {
  TempDir tmp;
  ASSERT_TRUE(MustOpen(tmp.path()));
  const std::string cert = ReadAll(tmp / "ca.crt");
  fs::remove(tmp / "ca.key");
  auto ca = CertificateAuthority::OpenOrCreate(tmp.path());
  ASSERT_FALSE(ca);
  EXPECT_NE(ca.error().message().find(tmp / "ca.key"), std::string::npos) << ca.error().message();
  EXPECT_EQ(ReadAll(tmp / "ca.crt"), cert);
  EXPECT_FALSE(fs::exists(tmp / "ca.key"));
}

TEST(CertificateAuthorityTest, MissingCertificateIsRemadeForTheExistingKey) {
  TempDir tmp;
  auto first = MustOpen(tmp.path());
  ASSERT_TRUE(first);
  auto issued = first->IssueClientCertificate("ann@example.com", "acme", 30);
  ASSERT_TRUE(issued);
  first.reset();
  fs::remove(tmp / "ca.crt");
  auto second = MustOpen(tmp.path());
  ASSERT_TRUE(second);
  EXPECT_TRUE(second->VerifyClientCertificate(issued->certificate_pem));
}

TEST(CertificateAuthorityTest, OpenConfiguredFiles) {
  TempDir tmp;
  ASSERT_TRUE(MustOpen(tmp.path()));
  auto ca = CertificateAuthority::Open(tmp / "ca.crt", tmp / "ca.key");
  ASSERT_TRUE(ca) << ca.error().ToString();
  EXPECT_EQ((*ca)->ca_certificate_pem(), ReadAll(tmp / "ca.crt"));

  auto missing = CertificateAuthority::Open(tmp / "nope.crt", tmp / "ca.key");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Code::kUnavailable);
  EXPECT_NE(missing.error().message().find(tmp / "nope.crt"), std::string::npos);

  // A leaf certificate is not a CA.
  auto issued = (*ca)->IssueClientCertificate("ann@example.com", "acme", 1);
  ASSERT_TRUE(issued);
  WriteAll(tmp / "leaf.crt", issued->certificate_pem);
  WriteAll(tmp / "leaf.key", issued->private_key_pem);
  auto leaf = CertificateAuthority::Open(tmp / "leaf.crt", tmp / "leaf.key");
  ASSERT_FALSE(leaf);
  EXPECT_EQ(leaf.error().code(), Code::kInvalidArgument);
  EXPECT_NE(leaf.error().message().find("not a CA"), std::string::npos) << leaf.error().message();
}

// ---- issuing --------------------------------------------------------------------------------

TEST(CertificateAuthorityTest, IssuedCertificateHasTheRightContents) {
  TempDir tmp;
  auto ca = MustOpen(tmp.path());
  ASSERT_TRUE(ca);
  const std::int64_t before = Now();
  auto issued = ca->IssueClientCertificate("ann@example.com", "acme-42", 365);
  ASSERT_TRUE(issued) << issued.error().ToString();

  X509Ptr cert = ParseCert(issued->certificate_pem);
  ASSERT_TRUE(cert);
  X509Ptr ca_cert = ParseCert(ca->ca_certificate_pem());
  X509_NAME* subject = X509_get_subject_name(cert.get());
  EXPECT_EQ(Entry(subject, NID_commonName), "ann@example.com");
  EXPECT_EQ(Entry(subject, NID_organizationName), "acme-42");
  EXPECT_EQ(Entry(subject, NID_organizationalUnitName), "paddlecloud-user");
  EXPECT_EQ(issued->subject, "CN=ann@example.com,OU=paddlecloud-user,O=acme-42");
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(cert.get()), X509_get_subject_name(ca_cert.get())), 0);
  EXPECT_EQ(X509_verify(cert.get(), X509_get0_pubkey(ca_cert.get())), 1);

  // Usages.
  EXPECT_EQ(X509_check_ca(cert.get()), 0);
  EXPECT_TRUE(ExtensionCritical(cert.get(), NID_basic_constraints));
  EXPECT_TRUE(ExtensionCritical(cert.get(), NID_key_usage));
  EXPECT_EQ(X509_get_key_usage(cert.get()), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_TRUE(X509_get_extension_flags(cert.get()) & EXFLAG_XKUSAGE);
  EXPECT_EQ(X509_get_extended_key_usage(cert.get()), static_cast<uint32_t>(XKU_SSL_CLIENT));
  const ASN1_OCTET_STRING* akid = X509_get0_authority_key_id(cert.get());
  ASSERT_NE(akid, nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(akid, X509_get0_subject_key_id(ca_cert.get())), 0);

  // Validity: five minutes back, 365 days ahead.
  EXPECT_EQ(issued->not_before_unix, ToUnix(X509_get0_notBefore(cert.get())));
  EXPECT_EQ(issued->not_after_unix, ToUnix(X509_get0_notAfter(cert.get())));
  EXPECT_GE(issued->not_before_unix, before - 300);
  EXPECT_LE(issued->not_before_unix, Now() - 299);
  EXPECT_GE(issued->not_after_unix, before + 365LL * 86400);
  EXPECT_LE(issued->not_after_unix, Now() + 365LL * 86400);

  // Serial, fingerprint, key.
  EXPECT_EQ(issued->serial_hex.size(), 32u);
  EXPECT_EQ(issued->serial_hex.find_first_not_of("0123456789abcdef"), std::string::npos);
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr);
  char* hex = BN_bn2hex(bn);
  std::string upper = issued->serial_hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(upper, hex);
  OPENSSL_free(hex);
  BN_free(bn);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  X509_digest(cert.get(), EVP_sha256(), md, &md_len);
  char expected[65];
  for (unsigned i = 0; i < md_len; ++i) std::snprintf(expected + 2 * i, 3, "%02x", md[i]);
  EXPECT_EQ(issued->fingerprint_sha256, std::string(expected, 64));
  EXPECT_EQ(issued->private_key_pem.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
  PkeyPtr key = ParseKey(issued->private_key_pem);
  ASSERT_TRUE(key);
  EXPECT_EQ(EVP_PKEY_get_base_id(key.get()), EVP_PKEY_EC);
  EXPECT_EQ(EVP_PKEY_get_bits(key.get()), 256);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);

  // Two issues never share a serial or a key.
  auto again = ca->IssueClientCertificate("ann@example.com", "acme-42", 365);
  ASSERT_TRUE(again);
  EXPECT_NE(again->serial_hex, issued->serial_hex);
  EXPECT_NE(again->private_key_pem, issued->private_key_pem);
}

TEST(CertificateAuthorityTest, IssueValidatesInputs) {
  TempDir tmp;
  auto ca = MustOpen(tmp.path());
  ASSERT_TRUE(ca);
  struct Case {
    std::string email, account;
    int days;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"", "acme", 30, "user_email"},
      {"ann@example.com", "", 30, "account_id"},
      {"ann@example.com\n", "acme", 30, "user_email"},
      {"ann@exa\x01mple.com", "acme", 30, "user_email"},
      {"ann@example.com", "ac\x7f" "me", 30, "account_id"},
      {"ann@example.com", "ac\xc2\x85me", 30, "account_id"},  // C1 control (NEL)
      {"ann@\xff.com", "acme", 30, "user_email"},               // not UTF-8
      {"ann@\xc0\xae.com", "acme", 30, "user_email"},           // overlong
      {std::string(65, 'a'), "acme", 30, "user_email"},
      {"ann@example.com", "acme", 0, "valid_days"},
      {"ann@example.com", "acme", 3651, "valid_days"},
      {"ann@example.com", "acme", -5, "valid_days"},
  };
  for (const auto& c : cases) {
    auto r = ca->IssueClientCertificate(c.email, c.account, c.days);
    ASSERT_FALSE(r) << c.field;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    EXPECT_EQ(r.error().field(), c.field) << r.error().message();
  }
  auto period = ca->IssueClientCertificateForPeriod("ann@example.com", "acme", 100, 100);
  ASSERT_FALSE(period);
  EXPECT_EQ(period.error().field(), "not_after");

  // Limits are inclusive; UTF-8 round-trips.
  EXPECT_TRUE(ca->IssueClientCertificate(std::string(64, 'a'), "acme", 3650));
  auto utf8 = ca->IssueClientCertificate("jos\xc3\xa9@example.com", "\xe6\x9d\xb1\xe4\xba\xac", 1);
  ASSERT_TRUE(utf8) << utf8.error().ToString();
  auto peer = ca->VerifyClientCertificate(utf8->certificate_pem);
  ASSERT_TRUE(peer) << peer.error().ToString();
  EXPECT_EQ(peer->email, "jos\xc3\xa9@example.com");
  EXPECT_EQ(peer->account_id, "\xe6\x9d\xb1\xe4\xba\xac");
  EXPECT_EQ(utf8->subject, "CN=jos\xc3\xa9@example.com,OU=paddlecloud-user,O=\xe6\x9d\xb1\xe4\xba\xac");
}

// ---- verifying ------------------------------------------------------------------------------

TEST(CertificateAuthorityTest, VerifiesItsOwnCertificate) {
  TempDir tmp;
  auto ca = MustOpen(tmp.path());
  ASSERT_TRUE(ca);
  auto issued = ca->IssueClientCertificate("ann@example.com", "acme", 30);
  ASSERT_TRUE(issued);

  auto peer = ca->VerifyClientCertificate(issued->certificate_pem);
  ASSERT_TRUE(peer) << peer.error().ToString();
  EXPECT_EQ(peer->serial_hex, issued->serial_hex);
  EXPECT_EQ(peer->email, "ann@example.com");
  EXPECT_EQ(peer->account_id, "acme");
  EXPECT_EQ(peer->not_after_unix, issued->not_after_unix);

  X509Ptr cert = ParseCert(issued->certificate_pem);
  auto via_x509 = ca->VerifyClientCertificateX509(cert.get());
  ASSERT_TRUE(via_x509);
  EXPECT_EQ(via_x509->serial_hex, issued->serial_hex);

  unsigned char* der = nullptr;
  int der_len = i2d_X509(cert.get(), &der);
  ASSERT_GT(der_len, 0);
  auto via_der = ca->VerifyClientCertificateDer(std::string_view(reinterpret_cast<char*>(der), der_len));
  OPENSSL_free(der);
  ASSERT_TRUE(via_der);
  EXPECT_EQ(via_der->email, "ann@example.com");

  auto null = ca->VerifyClientCertificateX509(nullptr);
  ASSERT_FALSE(null);
  EXPECT_EQ(null.error().code(), Code::kUnauthenticated);
}

TEST(CertificateAuthorityTest, RejectsACertificateFromAnotherCa) {
  TempDir a, b;
  auto ours = MustOpen(a.path());
  auto theirs = MustOpen(b.path());
  ASSERT_TRUE(ours && theirs);
  auto foreign = theirs->IssueClientCertificate("ann@example.com", "acme", 30);
  ASSERT_TRUE(foreign);
  auto r = ours->VerifyClientCertificate(foreign->certificate_pem);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kUnauthenticated);
  EXPECT_NE(r.error().message().find("not issued by this PaddleCloud CA"), std::string::npos) << r.error().message();
}

TEST(CertificateAuthorityTest, RejectsExpiredAndNotYetValidCertificates) {
  TempDir tmp;
  auto ca = MustOpen(tmp.path());
  ASSERT_TRUE(ca);
  const std::int64_t now = Now();
  auto expired = ca->IssueClientCertificateForPeriod("ann@example.com", "acme", now - 10 * 86400, now - 86400);
  ASSERT_TRUE(expired) << expired.error().ToString();
  auto r = ca->VerifyClientCertificate(expired->certificate_pem);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kUnauthenticated);
  EXPECT_NE(r.error().message().find("expired"), std::string::npos) << r.error().message();

  auto future = ca->IssueClientCertificateForPeriod("ann@example.com", "acme", now + 86400, now + 2 * 86400);
  ASSERT_TRUE(future);
  auto f = ca->VerifyClientCertificate(future->certificate_pem);
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().message().find("not yet valid"), std::string::npos) << f.error().message();
}

TEST(CertificateAuthorityTest, RejectsCertificatesWithoutClientAuthUsage) {
  TempDir tmp;
  auto ca = MustOpen(tmp.path());
  ASSERT_TRUE(ca);
  X509Ptr ca_cert = ParseCert(ca->ca_certificate_pem());
  PkeyPtr ca_key = ParseKey(ReadAll(tmp / "ca.key"));
  const std::int64_t now = Now();

  KeyAndCert server = MakeCert("ann@example.com", "acme", ca_cert.get(), ca_key.get(), "serverAuth", now - 60, now + 3600);
  auto r = ca->VerifyClientCertificate(ToPem(server.cert.get()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kUnauthenticated);

  KeyAndCert no_eku = MakeCert("ann@example.com", "acme", ca_cert.get(), ca_key.get(), nullptr, now - 60, now + 3600);
  auto n = ca->VerifyClientCertificate(ToPem(no_eku.cert.get()));
  ASSERT_FALSE(n);
  EXPECT_NE(n.error().message().find("clientAuth"), std::string::npos) << n.error().message();

  KeyAndCert good = MakeCert("ann@example.com", "acme", ca_cert.get(), ca_key.get(), "clientAuth", now - 60, now + 3600);
  EXPECT_TRUE(ca->VerifyClientCertificate(ToPem(good.cert.get())));

  // The CA certificate itself is no client certificate.
  EXPECT_FALSE(ca->VerifyClientCertificate(ca->ca_certificate_pem()));
}

TEST(CertificateAuthorityTest, RejectsGarbage) {
  TempDir tmp;
  auto ca = MustOpen(tmp.path());
  ASSERT_TRUE(ca);
  for (const std::string& input : {std::string(), std::string("hello"),
                                   std::string("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")}) {
    auto r = ca->VerifyClientCertificate(input);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), Code::kUnauthenticated);
    auto d = ca->VerifyClientCertificateDer(input);
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().code(), Code::kUnauthenticated);
  }
  EXPECT_EQ(ERR_peek_error(), 0u);  // the error queue is left clean
}

// ---- the key bundle -------------------------------------------------------------------------

struct ZipEntry {
  std::string data;
  int perm = 0;
};

std::map<std::string, ZipEntry> ReadZip(const std::string& bytes) {
  std::map<std::string, ZipEntry> out;
  struct archive* a = archive_read_new();
  archive_read_support_format_zip(a);
  EXPECT_EQ(archive_read_open_memory(a, bytes.data(), bytes.size()), ARCHIVE_OK) << archive_error_string(a);
  struct archive_entry* entry = nullptr;
  while (archive_read_next_header(a, &entry) == ARCHIVE_OK) {
    ZipEntry z;
    z.perm = archive_entry_perm(entry);
    char buf[4096];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0) z.data.append(buf, static_cast<std::size_t>(n));
    EXPECT_EQ(archive_entry_filetype(entry), static_cast<unsigned>(AE_IFREG));
    out[archive_entry_pathname(entry)] = std::move(z);
  }
  archive_read_free(a);
  return out;
}

TEST(KeyBundleTest, ZipHoldsCertificateKeyCaAndReadme) {
  TempDir tmp;
  auto ca = MustOpen(tmp.path());
  ASSERT_TRUE(ca);
  auto issued = ca->IssueClientCertificate("ann@example.com", "acme", 30);
  ASSERT_TRUE(issued);
  auto zip = MakeKeyBundleZip(*issued, ca->ca_certificate_pem(), "ann-acme", "https://cloud.example.com");
  ASSERT_TRUE(zip) << zip.error().ToString();
  ASSERT_EQ(zip->substr(0, 4), std::string("PK\x03\x04", 4));

  auto entries = ReadZip(*zip);
  ASSERT_EQ(entries.size(), 4u);
  ASSERT_TRUE(entries.count("ann-acme.crt") && entries.count("ann-acme.key") && entries.count("ca.crt") &&
              entries.count("README.txt"));
  EXPECT_EQ(entries["ann-acme.crt"].data, issued->certificate_pem);
  EXPECT_EQ(entries["ann-acme.key"].data, issued->private_key_pem);
  EXPECT_EQ(entries["ca.crt"].data, ca->ca_certificate_pem());
  EXPECT_EQ(entries["ann-acme.key"].perm, 0600);
  EXPECT_EQ(entries["ann-acme.crt"].perm, 0644);
  const std::string& readme = entries["README.txt"].data;
  EXPECT_NE(readme.find("curl --cert ann-acme.crt --key ann-acme.key --cacert ca.crt https://cloud.example.com"),
            std::string::npos)
      << readme;
  EXPECT_NE(readme.find("paddlecloud"), std::string::npos);
  EXPECT_NE(readme.find(issued->serial_hex), std::string::npos);
  EXPECT_EQ(readme.find("PRIVATE KEY-----"), std::string::npos);

  // The files work as a chain once extracted.
  EXPECT_TRUE(ca->VerifyClientCertificate(entries["ann-acme.crt"].data));
}

TEST(KeyBundleTest, ValidatesInputs) {
  TempDir tmp;
  auto ca = MustOpen(tmp.path());
  ASSERT_TRUE(ca);
  auto issued = ca->IssueClientCertificate("ann@example.com", "acme", 30);
  ASSERT_TRUE(issued);
  for (const std::string& bad : {std::string(), std::string("ca"), std::string("../x"), std::string(".hidden"),
                                 std::string("-rf"), std::string("a b"), std::string(65, 'x')}) {
    auto r = MakeKeyBundleZip(*issued, ca->ca_certificate_pem(), bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().field(), "basename");
  }
  auto no_ca = MakeKeyBundleZip(*issued, "", "ann");
  ASSERT_FALSE(no_ca);
  EXPECT_EQ(no_ca.error().field(), "ca_pem");
  IssuedCertificate empty_key = *issued;
  empty_key.private_key_pem.clear();
  auto no_key = MakeKeyBundleZip(empty_key, ca->ca_certificate_pem(), "ann");
  ASSERT_FALSE(no_key);
  EXPECT_EQ(no_key.error().field(), "private_key_pem");
  // Placeholder URL without one.
  auto zip = MakeKeyBundleZip(*issued, ca->ca_certificate_pem(), "ann");
  ASSERT_TRUE(zip);
  EXPECT_NE(ReadZip(*zip)["README.txt"].data.find("https://<your-paddlecloud-server>"), std::string::npos);
}

// ---- TLS ------------------------------------------------------------------------------------

struct HandshakeResult {
  bool server_ok = false;
  bool client_ok = false;
  std::string echoed;
  std::optional<std::string> serial;
  std::optional<VerifiedPeer> peer;
  std::string verify_error;
  std::vector<std::string> client_ca_names;  // what the server asked for, as the client saw it
};

// One TLS connection over a socketpair: the server (ConfigureServerContext on `ca`) in a thread,
// the client here, presenting (client_cert, client_key) when given. The client echoes one byte.
HandshakeResult Handshake(const CertificateAuthority& ca, const std::string& client_cert_pem,
                          const std::string& client_key_pem, int max_version = 0) {
  HandshakeResult result;
  const std::int64_t now = Now();
  KeyAndCert server_id = MakeCert("localhost", "server", nullptr, nullptr, "serverAuth", now - 60, now + 3600);

  SslCtxPtr server_ctx(SSL_CTX_new(TLS_server_method()));
  EXPECT_EQ(SSL_CTX_use_certificate(server_ctx.get(), server_id.cert.get()), 1);
  EXPECT_EQ(SSL_CTX_use_PrivateKey(server_ctx.get(), server_id.key.get()), 1);
  Status configured = ca.ConfigureServerContext(server_ctx.get());
  EXPECT_TRUE(configured.ok()) << configured.ToString();
  if (max_version) SSL_CTX_set_max_proto_version(server_ctx.get(), max_version);

  SslCtxPtr client_ctx(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_set_verify(client_ctx.get(), SSL_VERIFY_NONE, nullptr);
  if (!client_cert_pem.empty()) {
    X509Ptr cert = ParseCert(client_cert_pem);
    PkeyPtr key = ParseKey(client_key_pem);
    EXPECT_EQ(SSL_CTX_use_certificate(client_ctx.get(), cert.get()), 1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey(client_ctx.get(), key.get()), 1);
  }

  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  std::thread server([&] {
    SslPtr ssl(SSL_new(server_ctx.get()));
    SSL_set_fd(ssl.get(), fds[0]);
    if (SSL_accept(ssl.get()) == 1) {
      result.server_ok = true;
      result.serial = CertificateAuthority::PeerCertificateSerial(ssl.get());
      result.peer = CertificateAuthority::VerifiedPeerOf(ssl.get());
      result.verify_error = CertificateAuthority::PeerVerificationError(ssl.get());
      char c;
      if (SSL_read(ssl.get(), &c, 1) == 1) SSL_write(ssl.get(), &c, 1);
      SSL_shutdown(ssl.get());
    }
    ERR_clear_error();
    ::close(fds[0]);
  });
  {
    SslPtr ssl(SSL_new(client_ctx.get()));
    SSL_set_fd(ssl.get(), fds[1]);
    if (SSL_connect(ssl.get()) == 1) {
      result.client_ok = true;
      if (STACK_OF(X509_NAME)* names = SSL_get_client_CA_list(ssl.get())) {
        for (int i = 0; i < sk_X509_NAME_num(names); ++i) {
          result.client_ca_names.push_back(Entry(sk_X509_NAME_value(names, i), NID_commonName));
        }
      }
      char c = 'x';
      if (SSL_write(ssl.get(), &c, 1) == 1) {
        char back = 0;
        if (SSL_read(ssl.get(), &back, 1) == 1) result.echoed.assign(1, back);
      }
    }
    ERR_clear_error();
    ::shutdown(fds[1], SHUT_WR);
    server.join();
    ::close(fds[1]);
  }
  return result;
}

TEST(TlsClientAuthTest, VerifiedClientCertificateYieldsItsSerial) {
  TempDir tmp;
  auto ca = MustOpen(tmp.path());
  ASSERT_TRUE(ca);
  auto issued = ca->IssueClientCertificate("ann@example.com", "acme", 30);
  ASSERT_TRUE(issued);
  for (int version : {0, TLS1_2_VERSION}) {
    SCOPED_TRACE(version == 0 ? "TLS 1.3" : "TLS 1.2");
    HandshakeResult r = Handshake(*ca, issued->certificate_pem, issued->private_key_pem, version);
    EXPECT_TRUE(r.server_ok);
    EXPECT_TRUE(r.client_ok);
    EXPECT_EQ(r.echoed, "x");
    ASSERT_TRUE(r.serial.has_value());
    EXPECT_EQ(*r.serial, issued->serial_hex);
    ASSERT_TRUE(r.peer.has_value());
    EXPECT_EQ(r.peer->email, "ann@example.com");
    EXPECT_EQ(r.peer->account_id, "acme");
    EXPECT_EQ(r.verify_error, "");
    EXPECT_EQ(r.client_ca_names, std::vector<std::string>{"PaddleCloud CA"});
  }
}

TEST(TlsClientAuthTest, ClientWithoutCertificateStillConnects) {
  TempDir tmp;
  auto ca = MustOpen(tmp.path());
  ASSERT_TRUE(ca);
  HandshakeResult r = Handshake(*ca, "", "");
  EXPECT_TRUE(r.server_ok);
  EXPECT_TRUE(r.client_ok);
  EXPECT_EQ(r.echoed, "x");
  EXPECT_FALSE(r.serial.has_value());
  EXPECT_FALSE(r.peer.has_value());
  EXPECT_EQ(r.verify_error, "");
}

// Documented behaviour: a certificate that fails verification does not abort the handshake; the
// connection is anonymous (no serial) and the reason is available.
TEST(TlsClientAuthTest, CertificateFromAnotherCaConnectsWithoutSerial) {
  TempDir a, b;
  auto ours = MustOpen(a.path());
  auto theirs = MustOpen(b.path());
  ASSERT_TRUE(ours && theirs);
  auto foreign = theirs->IssueClientCertificate("ann@example.com", "acme", 30);
  ASSERT_TRUE(foreign);
  HandshakeResult r = Handshake(*ours, foreign->certificate_pem, foreign->private_key_pem);
  EXPECT_TRUE(r.server_ok);
  EXPECT_TRUE(r.client_ok);
  EXPECT_EQ(r.echoed, "x");
  EXPECT_FALSE(r.serial.has_value());
  EXPECT_FALSE(r.peer.has_value());
  EXPECT_NE(r.verify_error.find("not issued by this PaddleCloud CA"), std::string::npos) << r.verify_error;
}

TEST(TlsClientAuthTest, ExpiredCertificateConnectsWithoutSerial) {
  TempDir tmp;
  auto ca = MustOpen(tmp.path());
  ASSERT_TRUE(ca);
  const std::int64_t now = Now();
  auto expired = ca->IssueClientCertificateForPeriod("ann@example.com", "acme", now - 10 * 86400, now - 86400);
  ASSERT_TRUE(expired);
  HandshakeResult r = Handshake(*ca, expired->certificate_pem, expired->private_key_pem);
  EXPECT_TRUE(r.server_ok);
  EXPECT_FALSE(r.serial.has_value());
  EXPECT_NE(r.verify_error.find("expired"), std::string::npos) << r.verify_error;
}

TEST(TlsClientAuthTest, NullHandlesAreHarmless) {
  EXPECT_FALSE(CertificateAuthority::PeerCertificateSerial(nullptr));
  EXPECT_FALSE(CertificateAuthority::VerifiedPeerOf(nullptr));
  EXPECT_EQ(CertificateAuthority::PeerVerificationError(nullptr), "");
  TempDir tmp;
  auto ca = MustOpen(tmp.path());
  ASSERT_TRUE(ca);
  EXPECT_EQ(ca->ConfigureServerContext(nullptr).code(), Code::kInternal);
}

}  // namespace
}  // namespace paddlecloud::pki

namespace paddlecloud::pki {
namespace {

TEST(CertificateAuthorityServerCertTest, IssuesAServerCertificateForAnIp) {
  char tmpl[] = "/tmp/pki-server-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  auto ca = CertificateAuthority::OpenOrCreate(std::string(tmpl) + "/ca");
  ASSERT_TRUE(ca);
  auto issued = (*ca)->IssueServerCertificate("127.0.0.1", {"127.0.0.1"}, {"localhost"}, 30);
  ASSERT_TRUE(issued) << issued.error().message();
  BIO* bio = BIO_new_mem_buf(issued->certificate_pem.data(), static_cast<int>(issued->certificate_pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_host(cert, "localhost", 0, 0, nullptr), 1);
  EXPECT_NE(X509_check_host(cert, "example.com", 0, 0, nullptr), 1);
  EXPECT_TRUE(X509_get_extended_key_usage(cert) & XKU_SSL_SERVER);
  EXPECT_FALSE(X509_get_extended_key_usage(cert) & XKU_SSL_CLIENT);
  EXPECT_EQ(X509_check_ca(cert), 0);
  // Not a client certificate of this CA.
  EXPECT_FALSE((*ca)->VerifyClientCertificate(issued->certificate_pem));
  X509_free(cert);

  EXPECT_FALSE((*ca)->IssueServerCertificate("x", {}, {}, 30));
  EXPECT_FALSE((*ca)->IssueServerCertificate("x", {"1.2.3.4,DNS:evil"}, {}, 30));
  EXPECT_FALSE((*ca)->IssueServerCertificate("x", {"127.0.0.1"}, {}, 0));
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace paddlecloud::pki
