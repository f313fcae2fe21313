// The files API calls and cloud-path helpers that the file commands and the transfer engine share.
#pragma once

#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "client/api_client.h"
#include "common/status.h"

namespace paddlecloud::client {

// "folder/name" ("name" when `folder` is the top level); BaseName/ParentOf split at the last '/'.
std::string JoinCloud(const std::string& folder, const std::string& name);
std::string BaseName(const std::string& cloud);
std::string ParentOf(const std::string& cloud);

// A name in a listing that is one path segment (never "."/"..", '/', '\' or NUL): only such names
// are written locally.
bool SafeName(const std::string& name);

std::string FilesTarget(const std::string& path);
bool IsFolder(const boost::json::value& entry);

// The entry at `path`: a file's entry, or the head of a folder's listing.
Result<boost::json::value> Stat(ApiClient& client, const std::string& path);

// Every entry of the folder at `path` (all pages). `head` gets the first answer (a file's entry
// when `path` is a file; then the list is empty).
Result<std::vector<boost::json::value>> ListAll(ApiClient& client, const std::string& path, const std::string& sort,
                                                bool descending, boost::json::value* head = nullptr);

// Creates the cloud folder `path` (and its parents); one that exists already is fine.
Status EnsureFolder(ApiClient& client, const std::string& path);

}  // namespace paddlecloud::client
