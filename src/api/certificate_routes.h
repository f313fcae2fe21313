// HTTP routes of "Download SSL keys": a user creates a client certificate + private key for their
// account (downloaded once, as a zip with the CA certificate; the server keeps no private key),
// lists them with expiry, and revokes one. With TLS on, these certificates sign a user in.
#pragma once

#include "accounts/account_service.h"
#include "blocking/work_pool.h"
#include "http/router.h"
#include "pki/certificate_authority.h"

namespace paddlecloud::api {

void AddCertificateRoutes(http::Router& router, accounts::AccountService& accounts, pki::CertificateAuthority& ca,
                          blocking::WorkPool& pool);

}  // namespace paddlecloud::api
