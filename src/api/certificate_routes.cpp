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

void AddCertificateRoutes(http::Router& router, accounts::AccountService& accounts, pki::CertificateAuthority& ca,
                          blocking::WorkPool& pool) {
  router.Add("GET", "/api/v1/me/certificates", "The signed-in user's client certificates",
             [&](Request& request) -> asio::awaitable<Response> {
               auto certificates = co_await pool.Run([&] { return accounts.certificates().ListCertificates(*request.principal); });
               if (!certificates) co_return ErrorResponse(certificates.error());
               json::array items;
               for (const auto& c : *certificates)
                 items.push_back({{"serial", c.serial},
                                  {"subject", c.subject},
                                  {"fingerprint_sha256", c.fingerprint_sha256},
                                  {"not_before", c.not_before},
                                  {"not_after", c.not_after},
                                  {"revoked_at", c.revoked_at ? json::value(*c.revoked_at) : json::value(nullptr)},
                                  {"created_at", c.created_at}});
               co_return http::JsonResponse(200, {{"items", std::move(items)}});
             });

  router.Add("POST", "/api/v1/me/certificates",
             "Create a client certificate and key; answers a zip with them and the CA certificate",
             [&](Request& request) -> asio::awaitable<Response> {
               std::int64_t valid_days = 365;
               if (!request.body.empty()) {
                 auto object = http::ParseJsonObject(request.body);
                 if (!object) co_return ErrorResponse(object.error());
                 http::JsonReader reader(*object);
                 auto days = reader.OptionalInt("valid_days");
                 if (!days) co_return ErrorResponse(days.error());
                 if (*days) valid_days = **days;
                 Status unknown = reader.Finish();
                 if (!unknown.ok()) co_return ErrorResponse(unknown);
               }
               if (valid_days < 1 || valid_days > 825)
                 co_return ErrorResponse(Status::InvalidArgument("valid_days must be from 1 to 825", "valid_days"));
               auto bundle = co_await pool.Run([&]() -> Result<std::pair<std::string, std::string>> {
                 const Principal& who = *request.principal;
                 auto issued = ca.IssueClientCertificate(who.email, who.account_id, static_cast<int>(valid_days));
                 if (!issued) return Err(issued.error());
                 PC_RETURN_IF_ERROR(accounts.certificates().RecordCertificate(
                     who,
                     {.serial = issued->serial_hex, .subject = issued->subject,
                      .fingerprint_sha256 = issued->fingerprint_sha256, .not_before = issued->not_before_unix,
                      .not_after = issued->not_after_unix, .revoked_at = std::nullopt, .created_at = 0},
                     MetaOf(request)));
                 std::string basename = "paddlecloud-" + who.account_id + "-" + issued->serial_hex.substr(0, 8);
                 std::string host(request.headers.Get("Host").value_or(""));
                 auto zip = pki::MakeKeyBundleZip(*issued, ca.ca_certificate_pem(), basename,
                                                  host.empty() ? "" : std::string(request.tls ? "https://" : "http://") + host);
                 if (!zip) return Err(zip.error());
                 return std::make_pair(basename, std::move(*zip));
               });
               if (!bundle) co_return ErrorResponse(bundle.error());
               Response r;
               r.status = 201;
               r.headers.Set("Content-Type", "application/zip");
               r.headers.Set("Content-Disposition", "attachment; filename=\"" + bundle->first + ".zip\"");
               r.headers.Set("Cache-Control", "no-store");
               r.body = std::move(bundle->second);
               co_return r;
             });

  router.Add("DELETE", "/api/v1/me/certificates/{serial}", "Revoke one of the signed-in user's client certificates",
             [&](Request& request) -> asio::awaitable<Response> {
               std::string serial(request.PathParam("serial"));
               Status s = co_await pool.Run(
                   [&] { return accounts.certificates().RevokeCertificate(*request.principal, serial, MetaOf(request)); });
               if (!s.ok()) co_return ErrorResponse(s);
               co_return Response{.status = 204};
             });
}

}  // namespace paddlecloud::api
