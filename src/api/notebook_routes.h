// HTTP routes of notebooks on the platform's origin (docs/notebooks.md "API"): the caller's
// notebook, start/stop/restart, the account's notebooks, and the handoff that signs the browser in
// to the notebook origin. Rules live in notebooks/notebook_service.h.
#pragma once

#include <functional>
#include <string>

#include "blocking/work_pool.h"
#include "http/router.h"
#include "notebooks/notebook_service.h"

namespace paddlecloud::api {

struct NotebookRoutesContext {
  notebooks::NotebookService& notebooks;
  blocking::WorkPool& pool;
  // The notebook origin's URL that signs the browser of this (signed-in) request in and sends it
  // to `next` (UserContentGateway::StartHandoff at the origin meant for this browser).
  std::function<Result<std::string>(const http::Request&, std::string_view next)> start_handoff;
};

void AddNotebookRoutes(http::Router& router, NotebookRoutesContext context);

}  // namespace paddlecloud::api
