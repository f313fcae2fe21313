// HTTP routes of datasets and models (docs/files.md): listings, downloads (Range, ETag, folders as
// tar streams), folders, moves, copies, deletes, resumable streaming uploads, storage usage,
// shares and public links, publications.
#pragma once

#include "blocking/work_pool.h"
#include "files/file_service.h"
#include "http/router.h"

namespace paddlecloud::api {

void AddFileRoutes(http::Router& router, files::FileService& files, blocking::WorkPool& pool);

}  // namespace paddlecloud::api
