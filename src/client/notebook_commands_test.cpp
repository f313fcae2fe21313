// What `paddlecloud notebook status` and `open` print, from API answers written by hand
// (docs/notebooks.md, "API").
#include "client/notebook_commands.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "client/output.h"

namespace paddlecloud::client {
namespace {

namespace json = boost::json;

constexpr std::int64_t kNow = 1765000200;

TEST(NotebookFormatTest, ARunningNotebookShowsItsResourcesActivityAndHowToOpenIt) {
  auto notebook = json::parse(R"({"state": "running", "reason": "", "message": "",
    "resources": {"cpu": "2", "memory": "4Gi", "gpus": 1}, "defaults": {"cpu": "1", "memory": "2Gi", "gpus": 0},
    "started_at": 1765000000, "ready_at": 1765000004, "last_activity_at": 1765000100,
    "idle_timeout_seconds": 3600, "max_age_seconds": 0, "url": "/user/7/tree", "restarts": 0, "log_tail": ""})");
  EXPECT_EQ(FormatNotebook(notebook, kNow),
            "State:          running\n"
            "Resources:      2 CPU, 4Gi memory, 1 GPU\n"
            "Started:        " + FormatTime(1765000000) + " (3m ago)\n"
            "Ready:          " + FormatTime(1765000004) + " (3m ago)\n"
            "Last activity:  " + FormatTime(1765000100) + " (100s ago)\n"
            "Idle timeout:   60m without activity stops it\n"
            "Max age:        none\n"
            "Restarts:       0\n"
            "Open:           paddlecloud notebook open\n");
}

TEST(NotebookFormatTest, AStartingNotebookShowsWhatItWaitsFor) {
  auto notebook = json::parse(R"({"state": "starting", "reason": "waiting for 2 CPUs", "message": "",
    "resources": {"cpu": "2", "memory": "2Gi", "gpus": 0}, "started_at": 1765000190,
    "idle_timeout_seconds": 0, "max_age_seconds": 7200, "restarts": 1})");
  std::string text = FormatNotebook(notebook, kNow);
  EXPECT_NE(text.find("State:         starting (waiting for 2 CPUs)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Resources:     2 CPU, 2Gi memory, 0 GPUs\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Idle timeout:  none\nMax age:       2h\nRestarts:      1\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("Ready:"), std::string::npos) << text;
  EXPECT_EQ(text.find("Open:"), std::string::npos) << text;
  // The server's reason while the replica starts may only repeat the state.
  auto plain = json::parse(R"({"state": "starting", "reason": "Starting"})");
  EXPECT_EQ(FormatNotebook(plain, kNow), "State:         starting\nIdle timeout:  none\nMax age:       none\nRestarts:      0\n");
}

TEST(NotebookFormatTest, AStoppedNotebookSaysWhyAndAFailedOneShowsTheEndOfItsLog) {
  auto stopped = json::parse(R"({"state": "stopped", "reason": "idle",
    "message": "stopped after 1 h without activity; its files are kept",
    "resources": {"cpu": "1", "memory": "2Gi", "gpus": 0}, "started_at": 1765000000, "restarts": 0})");
  EXPECT_EQ(FormatNotebook(stopped, kNow),
            "State:      stopped (idle)\n"
            "Message:    stopped after 1 h without activity; its files are kept\n"
            "Resources:  1 CPU, 2Gi memory, 0 GPUs\n");
  auto failed = json::parse(R"({"state": "failed", "reason": "Error", "message": "Jupyter exited with code 1",
    "log_tail": "Traceback (most recent call last):\nImportError: no notebook\n"})");
  EXPECT_EQ(FormatNotebook(failed, kNow),
            "State:    failed (Error)\n"
            "Message:  Jupyter exited with code 1\n"
            "\nThe end of Jupyter's log:\n"
            "  Traceback (most recent call last):\n"
            "  ImportError: no notebook\n");
}

TEST(NotebookFormatTest, TheHandoffUrlCarriesThePageAsOneEncodedParameter) {
  EXPECT_EQ(HandoffUrl("https://cloud.example.com/pc", "/user/7/tree"),
            "https://cloud.example.com/pc/api/v1/notebook/handoff?next=%2Fuser%2F7%2Ftree");
  EXPECT_EQ(HandoffUrl("http://127.0.0.1:8080", "/user/7/notebooks/a b&c.ipynb"),
            "http://127.0.0.1:8080/api/v1/notebook/handoff?next=%2Fuser%2F7%2Fnotebooks%2Fa%20b%26c.ipynb");
}

}  // namespace
}  // namespace paddlecloud::client
