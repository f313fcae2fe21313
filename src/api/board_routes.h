// HTTP routes of Paddle Board: the sources a user may open, a board's graphs, ranges of curves at
// screen resolution (several sources at once, to compare), live points as Server-Sent Events, raw
// exports, and standalone runs recorded through the API. The shapes are in docs/board.md.
#pragma once

#include "blocking/work_pool.h"
#include "board/board_hub.h"
#include "board/board_sources.h"
#include "http/router.h"

namespace paddlecloud::api {

void AddBoardRoutes(http::Router& router, board::BoardSources& sources, board::BoardHub& hub,
                    blocking::WorkPool& pool);

}  // namespace paddlecloud::api
