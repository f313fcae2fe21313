#include "pki/key_bundle.h"

#include <algorithm>
#include <ctime>
#include <memory>
#include <string_view>

#include <archive.h>
#include <archive_entry.h>

namespace paddlecloud::pki {
namespace {

constexpr std::size_t kMaxBasename = 64;

Status ValidateBasename(const std::string& basename) {
  if (basename.empty() || basename.size() > kMaxBasename) {
    return Status::InvalidArgument("basename must be 1 to " + std::to_string(kMaxBasename) + " characters",
                                   "basename");
  }
  for (char c : basename) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-';
    if (!ok) return Status::InvalidArgument("basename may only hold letters, digits, '.', '_' and '-'", "basename");
  }
  if (basename[0] == '.' || basename[0] == '-') {
    return Status::InvalidArgument("basename must not start with '.' or '-'", "basename");
  }
  if (basename == "ca") return Status::InvalidArgument("basename must not be \"ca\" (ca.crt is the CA)", "basename");
  return Status::Ok();
}

std::string UtcTime(std::int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (::gmtime_r(&t, &tm) == nullptr) return std::to_string(unix_seconds);
  char buf[32];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return std::string(buf, n);
}

std::string Readme(const IssuedCertificate& issued, const std::string& b, const std::string& server_url) {
  const std::string url = server_url.empty() ? "https://<your-paddlecloud-server>" : server_url;
  std::string r;
  r += "PaddleCloud client certificate\n";
  r += "==============================\n\n";
  r += "Subject:      " + issued.subject + "\n";
  r += "Serial:       " + issued.serial_hex + "\n";
  r += "SHA-256:      " + issued.fingerprint_sha256 + "\n";
  r += "Valid from:   " + UtcTime(issued.not_before_unix) + "\n";
  r += "Valid until:  " + UtcTime(issued.not_after_unix) + "\n\n";
  r += "Files\n-----\n";
  const std::size_t width = std::max<std::size_t>(b.size() + 4, 10) + 2;
  auto pad = [&](const std::string& name) { return "  " + name + std::string(width - name.size(), ' '); };
  const std::string indent(2 + width, ' ');
  r += pad(b + ".crt") + "your client certificate (public)\n";
  r += pad(b + ".key") + "its private key. Keep it secret (chmod 600 " + b + ".key): whoever\n";
  r += indent + "holds it can act as you. PaddleCloud keeps no copy; if it leaks, revoke\n";
  r += indent + "the certificate on the account page and download a new one.\n";
  r += pad("ca.crt") + "the PaddleCloud CA certificate, which issued " + b + ".crt\n";
  r += pad("README.txt") + "this file\n\n";
  r += "With curl\n---------\n";
  r += "  curl --cert " + b + ".crt --key " + b + ".key --cacert ca.crt " + url + "/api/v1/version\n\n";
  r += "  --cacert ca.crt makes curl trust a server whose TLS certificate this CA issued; leave it out\n";
  r += "  when the server has a publicly trusted certificate.\n\n";
  r += "With the paddlecloud command line\n---------------------------------\n";
  r += "  paddlecloud login --server " + url + " --cert " + b + ".crt --key " + b + ".key --cacert ca.crt\n\n";
  r += "  The client certificate authenticates you wherever the server has TLS enabled; it is an\n";
  r += "  alternative to a password login or an access token.\n";
  return r;
}

la_ssize_t AppendToString(struct archive*, void* client_data, const void* buffer, size_t length) {
  static_cast<std::string*>(client_data)->append(static_cast<const char*>(buffer), length);
  return static_cast<la_ssize_t>(length);
}

struct ArchiveWriteDeleter {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};

Status ArchiveError(struct archive* a, const std::string& what) {
  const char* msg = archive_error_string(a);
  return Status::Internal("cannot build key bundle (" + what + "): " + (msg ? msg : "unknown libarchive error"));
}

Status AddEntry(struct archive* a, const std::string& name, std::string_view data, int perm, std::time_t mtime) {
  std::unique_ptr<struct archive_entry, EntryDeleter> entry(archive_entry_new());
  if (!entry) return Status::Internal("cannot build key bundle: out of memory");
  archive_entry_set_pathname(entry.get(), name.c_str());
  archive_entry_set_filetype(entry.get(), AE_IFREG);
  archive_entry_set_perm(entry.get(), perm);
  archive_entry_set_size(entry.get(), static_cast<la_int64_t>(data.size()));
  archive_entry_set_mtime(entry.get(), mtime, 0);
  if (archive_write_header(a, entry.get()) != ARCHIVE_OK) return ArchiveError(a, name);
  if (!data.empty() && archive_write_data(a, data.data(), data.size()) != static_cast<la_ssize_t>(data.size())) {
    return ArchiveError(a, name);
  }
  if (archive_write_finish_entry(a) != ARCHIVE_OK) return ArchiveError(a, name);
  return Status::Ok();
}

}  // namespace

Result<std::string> MakeKeyBundleZip(const IssuedCertificate& issued, const std::string& ca_pem,
                                     const std::string& basename, const std::string& server_url) {
  PC_RETURN_IF_ERROR(ValidateBasename(basename));
  if (issued.certificate_pem.empty()) {
    return Err(Status::InvalidArgument("certificate_pem must not be empty", "certificate_pem"));
  }
  if (issued.private_key_pem.empty()) {
    return Err(Status::InvalidArgument("private_key_pem must not be empty", "private_key_pem"));
  }
  if (ca_pem.empty()) return Err(Status::InvalidArgument("ca_pem must not be empty", "ca_pem"));

  std::string out;
  std::unique_ptr<struct archive, ArchiveWriteDeleter> a(archive_write_new());
  if (!a) return Err(Status::Internal("cannot build key bundle: out of memory"));
  if (archive_write_set_format_zip(a.get()) != ARCHIVE_OK) return Err(ArchiveError(a.get(), "zip format"));
  // No padding after the central directory.
  if (archive_write_set_bytes_in_last_block(a.get(), 1) != ARCHIVE_OK) return Err(ArchiveError(a.get(), "blocking"));
  if (archive_write_open(a.get(), &out, nullptr, AppendToString, nullptr) != ARCHIVE_OK) {
    return Err(ArchiveError(a.get(), "open"));
  }
  const std::time_t now = std::time(nullptr);
  PC_RETURN_IF_ERROR(AddEntry(a.get(), basename + ".crt", issued.certificate_pem, 0644, now));
  PC_RETURN_IF_ERROR(AddEntry(a.get(), basename + ".key", issued.private_key_pem, 0600, now));
  PC_RETURN_IF_ERROR(AddEntry(a.get(), "ca.crt", ca_pem, 0644, now));
  PC_RETURN_IF_ERROR(AddEntry(a.get(), "README.txt", Readme(issued, basename, server_url), 0644, now));
  if (archive_write_close(a.get()) != ARCHIVE_OK) return Err(ArchiveError(a.get(), "close"));
  return out;
}

}  // namespace paddlecloud::pki
