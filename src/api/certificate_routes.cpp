#include "api/certificate_routes.h"

#include "api/auth_middleware.h"
#include "http/json.h"
#include "pki/key_bundle.h"

namespace paddlecloud::api {

namespace asio = boost::asio;
namespace json = boost::json;
using http::ErrorResponse;
using http::Request;
using http::Response;

namespace {

// What every handler needs; copied into each call (three references).
struct Deps {
  accounts::AccountService& accounts;
  pki::CertificateAuthority& ca;
  blocking::WorkPool& pool;
};

json::object CertificateJson(const accounts::CertificateRecord& c) {
  return {{"serial", c.serial},
          {"subject", c.subject},
          {"fingerprint_sha256", c.fingerprint_sha256},
          {"not_before", c.not_before},
          {"not_after", c.not_after},
          {"revoked_at", c.revoked_at ? json::value(*c.revoked_at) : json::value(nullptr)},
          {"created_at", c.created_at}};
}

asio::awaitable<Response> ListCertificates(Deps d, Request& request) {
  auto certificates =
      co_await d.pool.Run([&] { return d.accounts.certificates().ListCertificates(*request.principal); });
  if (!certificates) co_return ErrorResponse(certificates.error());
  json::array items;
  for (const auto& c : *certificates) items.push_back(CertificateJson(c));
  co_return http::JsonResponse(200, {{"items", std::move(items)}});
}

// The optional body {"valid_days": 1..825}; 365 without one.
Result<int> ValidDaysOf(const Request& request) {
  std::int64_t valid_days = 365;
  if (!request.body.empty()) {
    auto object = http::ParseJsonObject(request.body);
    if (!object) return Err(object.error());
    http::JsonReader reader(*object);
    auto days = reader.OptionalInt("valid_days");
    if (!days) return Err(days.error());
    if (*days) valid_days = **days;
    Status unknown = reader.Finish();
    if (!unknown.ok()) return Err(unknown);
  }
  if (valid_days < 1 || valid_days > 825)
    return Err(Status::InvalidArgument("valid_days must be from 1 to 825", "valid_days"));
  return static_cast<int>(valid_days);
}

// Issues and records a certificate; {zip file basename, zip bytes}. Blocking.
Result<std::pair<std::string, std::string>> IssueKeyBundle(Deps d, const Request& request, int valid_days) {
  const Principal& who = *request.principal;
  auto issued = d.ca.IssueClientCertificate(who.email, who.account_id, valid_days);
  if (!issued) return Err(issued.error());
  PC_RETURN_IF_ERROR(d.accounts.certificates().RecordCertificate(
      who,
      {.serial = issued->serial_hex, .subject = issued->subject, .fingerprint_sha256 = issued->fingerprint_sha256,
       .not_before = issued->not_before_unix, .not_after = issued->not_after_unix, .revoked_at = std::nullopt,
       .created_at = 0},
      MetaOf(request)));
  std::string basename = "paddlecloud-" + who.account_id + "-" + issued->serial_hex.substr(0, 8);
  std::string host(request.headers.Get("Host").value_or(""));
  auto zip = pki::MakeKeyBundleZip(*issued, d.ca.ca_certificate_pem(), basename,
                                   host.empty() ? "" : std::string(request.tls ? "https://" : "http://") + host);
  if (!zip) return Err(zip.error());
  return std::make_pair(basename, std::move(*zip));
}

asio::awaitable<Response> CreateCertificate(Deps d, Request& request) {
  auto valid_days = ValidDaysOf(request);
  if (!valid_days) co_return ErrorResponse(valid_days.error());
  auto bundle = co_await d.pool.Run([&] { return IssueKeyBundle(d, request, *valid_days); });
  if (!bundle) co_return ErrorResponse(bundle.error());
  Response r;
  r.status = 201;
  r.headers.Set("Content-Type", "application/zip");
  r.headers.Set("Content-Disposition", "attachment; filename=\"" + bundle->first + ".zip\"");
  r.headers.Set("Cache-Control", "no-store");
  r.body = std::move(bundle->second);
  co_return r;
}

asio::awaitable<Response> RevokeCertificate(Deps d, Request& request) {
  std::string serial(request.PathParam("serial"));
  Status s = co_await d.pool.Run(
      [&] { return d.accounts.certificates().RevokeCertificate(*request.principal, serial, MetaOf(request)); });
  if (!s.ok()) co_return ErrorResponse(s);
  co_return Response{.status = 204};
}

}  // namespace

void AddCertificateRoutes(http::Router& router, accounts::AccountService& accounts, pki::CertificateAuthority& ca,
                          blocking::WorkPool& pool) {
  Deps deps{accounts, ca, pool};
  auto handle = [deps](asio::awaitable<Response> (*handler)(Deps, Request&)) {
    return [deps, handler](Request& request) { return handler(deps, request); };
  };
  router.Add("GET", "/api/v1/me/certificates", "The signed-in user's client certificates", handle(ListCertificates));
  router.Add("POST", "/api/v1/me/certificates",
             "Create a client certificate and key; answers a zip with them and the CA certificate",
             handle(CreateCertificate));
  router.Add("DELETE", "/api/v1/me/certificates/{serial}", "Revoke one of the signed-in user's client certificates",
             handle(RevokeCertificate));
}

}  // namespace paddlecloud::api
