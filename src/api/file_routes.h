// HTTP routes of datasets and models (docs/files.md): listings, downloads (Range, ETag, folders as
// tar streams), folders, moves, copies, deletes, resumable streaming uploads, storage usage,
// shares and public links, publications.
#pragma once

#include <boost/json/object.hpp>

#include <functional>
#include <string>

#include "accounts/account_service.h"
#include "blocking/work_pool.h"
#include "files/file_service.h"
#include "http/router.h"

namespace paddlecloud::api {

// Records a security event in the account's audit log (AccountService::RecordAudit); called on the
// blocking pool. Shares, public links and publications are audited.
using AuditRecorder = std::function<void(const Principal&, const std::string& event, const accounts::RequestMeta&,
                                         const boost::json::object& details)>;

void AddFileRoutes(http::Router& router, files::FileService& files, blocking::WorkPool& pool, AuditRecorder audit);

}  // namespace paddlecloud::api
