// The "Download SSL keys" bundle: a zip a user downloads once, holding their client certificate,
// its private key, the platform CA certificate and a README on how to use them.
#pragma once

#include <string>

#include "common/status.h"
#include "pki/certificate_authority.h"

namespace paddlecloud::pki {

// Builds, in memory, a zip holding:
//   <basename>.crt  issued.certificate_pem            (mode 0644)
//   <basename>.key  issued.private_key_pem            (mode 0600: the secret)
//   ca.crt          ca_pem                            (mode 0644)
//   README.txt      what the files are; how to use them with curl and the paddlecloud CLI (0644)
// `server_url` ("https://cloud.example.com") fills the examples; empty -> a placeholder.
// `basename`: 1..64 characters of [A-Za-z0-9._-], not starting with '.' or '-', not "ca"
// (else kInvalidArgument, field "basename"); an empty certificate, key or CA PEM is
// kInvalidArgument too (field "certificate_pem", "private_key_pem", "ca_pem"). libarchive failures
// -> kInternal. Returns the zip bytes; the result contains the private key: never log or store it.
Result<std::string> MakeKeyBundleZip(const IssuedCertificate& issued, const std::string& ca_pem,
                                     const std::string& basename, const std::string& server_url = "");

}  // namespace paddlecloud::pki
