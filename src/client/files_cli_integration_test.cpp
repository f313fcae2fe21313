// The file commands end to end: `paddlecloud login`, then ls, cp (folders both ways, uploads that
// resume after the CLI was killed, downloads that resume from DEST.part), mkdir, mv, rm, share,
// unshare, shares and publish, as child processes against the real server binary. Plus the pure
// pieces (cloud paths, rates, durations) on their own.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>

#include "client/api_client.h"
#include "client/cli_test_support.h"
#include "client/file_commands.h"
#include "client/file_transfer.h"
#include "testing/http_client.h"
#include "testing/platform_fixture.h"
#include "testing/server_process.h"
#include "testing/smtp_server.h"

namespace paddlecloud::client {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using test::Outcome;

constexpr char kPassword[] = "correct horse battery";

std::string RandomBytes(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(gen() & 0xff);
  return out;
}

void WriteFile(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

// Every file (with its bytes) and folder ("/" at the end) under `root`, by relative path.
std::map<std::string, std::string> Tree(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    std::string rel = entry.path().lexically_relative(root).generic_string();
    if (entry.is_directory()) {
      out[rel + "/"] = "";
    } else {
      out[rel] = testing::ReadFile(entry.path().string());
    }
  }
  return out;
}

std::string RegexEscape(const std::string& text) {
  static const std::regex special(R"([.^$|()\[\]{}*+?\\])");
  return std::regex_replace(text, special, R"(\$&)");
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
    lines.push_back(text.substr(start, end - start));
  if (start < text.size()) lines.push_back(text.substr(start));
  return lines;
}

// --- the pure pieces ---------------------------------------------------------------------------

TEST(CloudPaths, AreCheckedAndNormalized) {
  bool trailing = false;
  EXPECT_EQ(*NormalizeCloudPath("datasets/mnist", &trailing), "datasets/mnist");
  EXPECT_FALSE(trailing);
  EXPECT_EQ(*NormalizeCloudPath("/datasets/mnist/", &trailing), "datasets/mnist");
  EXPECT_TRUE(trailing);
  EXPECT_EQ(*NormalizeCloudPath(""), "");
  EXPECT_EQ(*NormalizeCloudPath("/"), "");
  EXPECT_EQ(*NormalizeCloudPath("datasets/sub dir/ünï.txt"), "datasets/sub dir/ünï.txt");
  for (std::string bad : std::vector<std::string>{"datasets/../x", "..", "datasets/./x", "datasets//x", "a\\b", std::string("a\0b", 3)}) {
    auto r = NormalizeCloudPath(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().field(), "path");
    EXPECT_NE(r.error().message().find("invalid cloud path"), std::string::npos) << r.error().message();
  }
  EXPECT_NE(NormalizeCloudPath("datasets/../x").error().message().find("'..' segments are not allowed"),
            std::string::npos);
  EXPECT_EQ(EncodePath("datasets/sub dir/ü+%.txt"), "datasets/sub%20dir/%C3%BC%2B%25.txt");
  EXPECT_EQ(EncodeComponent("a/b c&d=e"), "a%2Fb%20c%26d%3De");
}

// The CLI follows the shared vectors of the cloud-path rule (testdata/cloud_paths.json), except that
// on its command line a leading '/' is dropped.
TEST(CloudPaths, FollowTheSharedVectors) {
  auto vectors = json::parse(testing::ReadFile(std::string(PADDLECLOUD_SOURCE_DIR) + "/testdata/cloud_paths.json"));
  for (const auto& v : vectors.at("vectors").as_array()) {
    std::string input(v.at("input").as_string());
    auto normalized = NormalizeCloudPath(input);
    if (const auto* path = v.as_object().if_contains("path")) {
      ASSERT_TRUE(normalized) << input << ": " << normalized.error().ToString();
      EXPECT_EQ(*normalized, path->as_string());
    } else if (v.at("error").as_string() != "absolute") {
      EXPECT_FALSE(normalized) << v.at("why").as_string();
    }
  }
}

TEST(Rates, AreByteSizesPerSecond) {  // one meaning per prefix, as everywhere (common/units.h)
  EXPECT_EQ(*ParseRate("1000"), 1000u);
  EXPECT_EQ(*ParseRate("500K"), 500'000u);
  EXPECT_EQ(*ParseRate("500Ki"), 512'000u);
  EXPECT_EQ(*ParseRate("2M"), 2'000'000u);
  EXPECT_EQ(*ParseRate("2M/s"), 2'000'000u);
  EXPECT_EQ(*ParseRate("1.5Mi"), 3u << 19);
  EXPECT_EQ(*ParseRate("1G"), 1'000'000'000u);
  EXPECT_EQ(*ParseRate("2MiB"), 2u << 20);
  for (std::string bad : {"", "0", "M", "2X", "-1", "fast", "2m"}) EXPECT_FALSE(ParseRate(bad)) << bad;
}

TEST(Durations, TakeUnits) {
  EXPECT_EQ(*ParseExpirySeconds("45s"), 45);
  EXPECT_EQ(*ParseExpirySeconds("45"), 45);
  EXPECT_EQ(*ParseExpirySeconds("30m"), 1800);
  EXPECT_EQ(*ParseExpirySeconds("1.5h"), 5400);
  EXPECT_EQ(*ParseExpirySeconds("7d"), 604800);
  EXPECT_EQ(*ParseExpirySeconds("2w"), 1209600);
  EXPECT_EQ(*ParseExpirySeconds("1500ms"), 2);  // rounded up
  for (std::string bad : {"", "d", "0d", "7y", "-1d", "1.5.h"}) EXPECT_FALSE(ParseExpirySeconds(bad)) << bad;
}

TEST(Digests, Sha256) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  testing::TempDir dir;
  WriteFile(dir.path() + "/f", "abc");
  EXPECT_EQ(*Sha256OfFile(dir.path() + "/f"), Sha256Hex("abc"));
  EXPECT_FALSE(Sha256OfFile(dir.path() + "/missing"));
}

// --- end to end --------------------------------------------------------------------------------

class FilesCliTest : public testing::PlatformTest {
 protected:
  void SetUp() override {
    PlatformTest::SetUp();
    StartServer(ServerFlags());
    server_url_ = "http://" + addr_;
    home_ = SignUp("ann@example.com", "ann-lab", token_);
  }

  virtual std::vector<std::string> ServerFlags() const { return {}; }

  // Registers and verifies an account, signs its user in with the CLI in a home of its own; returns
  // that home and sets `token`.
  std::string SignUp(const std::string& email, const std::string& account, std::string& token) {
    auto anonymous = ApiClient::Create({.server = server_url_});
    EXPECT_TRUE(anonymous);
    auto reg = anonymous->Call("POST", "/api/v1/auth/register",
                               json::object{{"email", email}, {"password", kPassword}, {"account_id", account}});
    EXPECT_TRUE(reg) << reg.error().ToString();
    // The verification mail to `email` (a welcome mail to someone else may come in between).
    std::string verify_token;
    bool mailed = testing::WaitFor([&] {
      for (int n = 1; n <= smtp_->MessageCount(); ++n) {
        std::string mail = smtp_->DecodedMessage(n);
        std::smatch m;
        if (mail.find("To: " + email) != std::string::npos &&
            std::regex_search(mail, m, std::regex("/verify\\?token=([A-Za-z0-9_-]+)"))) {
          verify_token = m[1].str();
          return true;
        }
      }
      return false;
    }, 20s);
    EXPECT_TRUE(mailed) << server_->Log();
    EXPECT_TRUE(anonymous->Call("POST", "/api/v1/auth/verify", json::object{{"token", verify_token}}));
    std::string home = dir_.path() + "/" + account;
    fs::create_directories(home);
    Outcome login = test::RunProgram({testing::PaddlecloudBinary(), "login", "--server", server_url_, "--email", email},
                                     home, std::string(kPassword) + "\n");
    EXPECT_EQ(login.exit_code, 0) << login;
    token = std::string(json::parse(testing::ReadFile(home + "/.paddlecloud/config")).at("token").as_string());
    return home;
  }

  Outcome Cli(std::vector<std::string> args, std::chrono::milliseconds timeout = 120s) { return CliAs(home_, args, timeout); }
  Outcome CliAs(const std::string& home, std::vector<std::string> args, std::chrono::milliseconds timeout = 120s) {
    args.insert(args.begin(), testing::PaddlecloudBinary());
    return test::RunProgram(args, home, "", {}, timeout);
  }
  std::unique_ptr<test::Running> Start(std::vector<std::string> args) {
    args.insert(args.begin(), testing::PaddlecloudBinary());
    return std::make_unique<test::Running>(args, home_, "");
  }
  std::optional<testing::HttpReply> Api(const std::string& method, const std::string& target, const std::string& body = "",
                                        const std::string& token = "") {
    std::string headers = "Authorization: Bearer " + (token.empty() ? token_ : token) + "\r\n";
    if (!body.empty()) headers += "Content-Type: application/json\r\n";
    return testing::Request(addr_, method, target, body, headers);
  }
  // Waits until the server holds part of the one upload `cp` began, then kills `cp` (SIGKILL); `id`
  // gets the session, `kept` what the server kept of it (it survives the client).
  void KillMidUpload(std::unique_ptr<test::Running> cp, std::string& id, std::int64_t& kept) {
    ASSERT_TRUE(testing::WaitFor([&] {
      auto states = UploadStates();
      if (states.empty()) return false;
      id = std::string(states.front().at("id").as_string());
      return ServerOffset(id) > 0;
    }, 60s)) << cp->Err() << server_->Log();
    cp.reset();
    ASSERT_TRUE(testing::WaitFor([&] { return (kept = ServerOffset(id)) > 0; }, 10s));
  }
  // The upload sessions the CLI remembers: id by state file.
  std::vector<json::value> UploadStates() {
    std::vector<json::value> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(home_ + "/.paddlecloud/uploads", ec)) {
      if (entry.path().extension() != ".json") continue;
      boost::system::error_code jec;
      json::value v = json::parse(testing::ReadFile(entry.path().string()), jec);
      if (!jec) out.push_back(v);
    }
    return out;
  }
  // The offset the server reports for upload `id` (-1 when it has none).
  std::int64_t ServerOffset(const std::string& id) {
    auto r = Api("GET", "/api/v1/uploads/" + id);
    if (!r || r->status != 200) return -1;
    return json::parse(r->body).at("offset").to_number<std::int64_t>();
  }

  std::string server_url_;
  std::string home_;
  std::string token_;
};

TEST_F(FilesCliTest, FoldersRoundTripByteIdentically) {
  fs::path data = dir_.path() + "/tree-src";  // (dir_/data is the server's)
  WriteFile(data / "a.txt", "hello\n");
  WriteFile(data / "empty.bin", "");
  WriteFile(data / "sub dir" / "ünïcødé файл (1).txt", "unicode name, spaces and all\n");
  WriteFile(data / "sub dir" / "deeper" / "big.bin", RandomBytes(3 * 1024 * 1024 + 17, 1));
  fs::create_directories(data / "empty folder");

  Outcome up = Cli({"cp", "-r", data.string(), "pc:datasets/tree"});
  ASSERT_EQ(up.exit_code, 0) << up << server_->Log();
  // stderr is not a terminal: no progress redraws, one summary line.
  EXPECT_TRUE(std::regex_search(up.err, std::regex("^Uploaded 4 files \\(3\\.0 MiB\\) in [0-9.]+ s"))) << up;
  EXPECT_EQ(up.err.find('\r'), std::string::npos) << up;
  EXPECT_TRUE(UploadStates().empty());  // finished sessions are forgotten

  Outcome ls = Cli({"ls", "datasets/tree"});
  ASSERT_EQ(ls.exit_code, 0) << ls;
  EXPECT_EQ(ls.out, "empty folder/\nsub dir/\na.txt\nempty.bin\n") << ls;  // folders first
  Outcome top = Cli({"ls"});
  ASSERT_EQ(top.exit_code, 0) << top;
  for (std::string folder : {"datasets/\n", "models/\n", "workspace/\n"})
    EXPECT_NE(top.out.find(folder), std::string::npos) << folder << top;
  Outcome deep = Cli({"ls", "-l", "datasets/tree/sub dir/deeper"});
  ASSERT_EQ(deep.exit_code, 0) << deep;
  EXPECT_TRUE(deep.out.starts_with("SIZE")) << deep;
  EXPECT_TRUE(std::regex_search(deep.out, std::regex("\n3145745 +\\d{4}-\\d\\d-\\d\\d [0-9:]+ +ann@example.com +big.bin\n")))
      << deep;
  Outcome one = Cli({"ls", "-l", "--human", "datasets/tree/sub dir/deeper/big.bin"});
  EXPECT_TRUE(std::regex_search(one.out, std::regex("\n3\\.0 MiB +.* +datasets/tree/sub dir/deeper/big.bin\n"))) << one;
  Outcome by_size = Cli({"ls", "--sort", "size", "--reverse", "datasets/tree"});
  ASSERT_EQ(by_size.exit_code, 0) << by_size;
  auto sized = Lines(by_size.out);
  ASSERT_EQ(sized.size(), 4u) << by_size;
  EXPECT_EQ(std::find(sized.begin(), sized.end(), "a.txt") < std::find(sized.begin(), sized.end(), "empty.bin"), true)
      << by_size;

  // Down again into a new folder: the same tree, byte for byte.
  fs::path out = dir_.path() + "/out";
  Outcome down = Cli({"cp", "-r", "pc:datasets/tree", out.string()});
  ASSERT_EQ(down.exit_code, 0) << down;
  EXPECT_TRUE(std::regex_search(down.err, std::regex("^Downloaded 4 files \\(3\\.0 MiB\\)"))) << down;
  EXPECT_EQ(Tree(out), Tree(data));
  for (const auto& entry : fs::recursive_directory_iterator(out))
    EXPECT_NE(entry.path().extension(), ".part") << entry.path();

  // Into an existing folder, each source keeps its name; a single file to a new name.
  fs::create_directories(dir_.path() + "/into");
  Outcome into = Cli({"cp", "-r", "pc:datasets/tree", "pc:datasets/tree/a.txt", dir_.path() + "/into"});
  ASSERT_EQ(into.exit_code, 0) << into;
  EXPECT_EQ(Tree(dir_.path() + "/into/tree"), Tree(data));
  EXPECT_EQ(testing::ReadFile(dir_.path() + "/into/a.txt"), "hello\n");
  Outcome renamed = Cli({"cp", "pc:datasets/tree/a.txt", dir_.path() + "/b.txt"});
  ASSERT_EQ(renamed.exit_code, 0) << renamed;
  EXPECT_EQ(testing::ReadFile(dir_.path() + "/b.txt"), "hello\n");

  // Uploading to an existing folder puts the source inside it; a file to a new cloud name.
  Outcome again = Cli({"cp", "-r", data.string(), "pc:datasets/tree"});
  ASSERT_EQ(again.exit_code, 0) << again;
  EXPECT_NE(Cli({"ls", "datasets/tree"}).out.find("tree-src/\n"), std::string::npos);
  Outcome file_up = Cli({"cp", (data / "a.txt").string(), "pc:models/notes.txt"});
  ASSERT_EQ(file_up.exit_code, 0) << file_up;
  EXPECT_EQ(Cli({"ls", "models"}).out, "notes.txt\n");
  // A file replaces the file at its path.
  WriteFile(dir_.path() + "/v2.txt", "second version\n");
  ASSERT_EQ(Cli({"cp", dir_.path() + "/v2.txt", "pc:models/notes.txt"}).exit_code, 0);
  ASSERT_EQ(Cli({"cp", "pc:models/notes.txt", dir_.path() + "/notes.txt"}).exit_code, 0);
  EXPECT_EQ(testing::ReadFile(dir_.path() + "/notes.txt"), "second version\n");

  // Cloud to cloud: the server copies.
  Outcome copy = Cli({"cp", "-r", "pc:datasets/tree/sub dir", "pc:workspace/copy"});
  ASSERT_EQ(copy.exit_code, 0) << copy;
  EXPECT_EQ(Cli({"ls", "workspace/copy"}).out, "deeper/\nünïcødé файл (1).txt\n");
}

TEST_F(FilesCliTest, MkdirMvRm) {
  ASSERT_EQ(Cli({"mkdir", "datasets/a/b", "models/m"}).exit_code, 0);
  Outcome exists = Cli({"mkdir", "datasets/a/b"});
  EXPECT_EQ(exists.exit_code, 1) << exists;
  EXPECT_TRUE(exists.err.starts_with("paddlecloud: ")) << exists;
  EXPECT_EQ(Cli({"mkdir", "-p", "datasets/a/b"}).exit_code, 0);
  EXPECT_EQ(Cli({"ls", "datasets/a"}).out, "b/\n");

  WriteFile(dir_.path() + "/f.txt", "f\n");
  ASSERT_EQ(Cli({"cp", dir_.path() + "/f.txt", "pc:datasets/a/b/"}).exit_code, 0);
  EXPECT_EQ(Cli({"ls", "datasets/a/b"}).out, "f.txt\n");
  Outcome mv = Cli({"mv", "datasets/a/b/f.txt", "datasets/a/g.txt"});
  ASSERT_EQ(mv.exit_code, 0) << mv;
  EXPECT_EQ(Cli({"ls", "datasets/a"}).out, "b/\ng.txt\n");
  ASSERT_EQ(Cli({"mv", "datasets/a/g.txt", "datasets/a/b"}).exit_code, 0);  // into a folder
  EXPECT_EQ(Cli({"ls", "datasets/a/b"}).out, "g.txt\n");
  ASSERT_EQ(Cli({"mv", "datasets/a", "models/m"}).exit_code, 0);  // a folder, into another space
  EXPECT_EQ(Cli({"ls", "models/m/a/b"}).out, "g.txt\n");
  Outcome gone = Cli({"ls", "datasets/a"});
  EXPECT_EQ(gone.exit_code, 1) << gone;

  Outcome not_empty = Cli({"rm", "models/m"});
  EXPECT_EQ(not_empty.exit_code, 1) << not_empty;
  EXPECT_NE(not_empty.err.find("rm -r"), std::string::npos) << not_empty;
  Outcome rm = Cli({"rm", "-r", "models/m"});
  ASSERT_EQ(rm.exit_code, 0) << rm;
  EXPECT_EQ(Cli({"ls", "models"}).out, "");
  Outcome missing = Cli({"rm", "models/nothing"});
  EXPECT_EQ(missing.exit_code, 1) << missing;
  Outcome top = Cli({"rm", "-r", "datasets"});
  EXPECT_EQ(top.exit_code, 1) << top;
}

// The CLI is killed (SIGKILL) midway through an upload; the same command continues where the server
// is, and the file arrives whole.
TEST_F(FilesCliTest, AKilledUploadResumes) {
  std::string big = dir_.path() + "/big model.bin";
  std::string content = RandomBytes(16 * 1024 * 1024, 2);
  WriteFile(big, content);

  std::string id;
  std::int64_t kept = 0;
  ASSERT_NO_FATAL_FAILURE(KillMidUpload(Start({"cp", "--limit-rate", "2M", big, "pc:models/big model.bin"}), id, kept));
  auto state = UploadStates().front();
  EXPECT_EQ(state.at("size").to_number<std::int64_t>(), 16 * 1024 * 1024);
  EXPECT_EQ(state.at("path").as_string(), "models/big model.bin");
  EXPECT_EQ(state.at("sha256").as_string(), Sha256Hex(content));
  EXPECT_LT(kept, 16 * 1024 * 1024);
  EXPECT_EQ(Cli({"ls", "models"}).out, "");  // nothing partial is visible

  Outcome resumed = Cli({"cp", big, "pc:models/big model.bin"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed << server_->Log();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(resumed.err, m, std::regex("resuming " + RegexEscape(dir_.path()) + "/big model.bin at (\\d+) bytes\n")))
      << resumed;
  EXPECT_GE(std::stoll(m[1].str()), kept);
  EXPECT_TRUE(UploadStates().empty());
  EXPECT_EQ(ServerOffset(id), -1);  // the session is over

  ASSERT_EQ(Cli({"cp", "pc:models/big model.bin", dir_.path() + "/copy.bin"}).exit_code, 0);
  EXPECT_TRUE(testing::ReadFile(dir_.path() + "/copy.bin") == content);

  // A local file that changed since the interrupted run starts over.
  std::string small = dir_.path() + "/changing.bin";
  WriteFile(small, RandomBytes(4 * 1024 * 1024, 3));
  auto again = Start({"cp", "--limit-rate", "512K", small, "pc:models/changing.bin"});
  ASSERT_TRUE(testing::WaitFor([&] {
    auto states = UploadStates();
    return !states.empty() && ServerOffset(std::string(states.front().at("id").as_string())) > 0;
  }, 60s)) << again->Err();
  std::string old_id(UploadStates().front().at("id").as_string());
  again.reset();
  std::string changed = RandomBytes(3 * 1024 * 1024, 4);
  WriteFile(small, changed);
  struct timespec times[2] = {{0, UTIME_NOW}, {1'000'000'000, 0}};  // surely another mtime
  ASSERT_EQ(::utimensat(AT_FDCWD, small.c_str(), times, 0), 0);
  Outcome fresh = Cli({"cp", small, "pc:models/changing.bin"});
  ASSERT_EQ(fresh.exit_code, 0) << fresh;
  EXPECT_EQ(fresh.err.find("resuming"), std::string::npos) << fresh;
  ASSERT_EQ(Cli({"cp", "pc:models/changing.bin", dir_.path() + "/changed.bin"}).exit_code, 0);
  EXPECT_TRUE(testing::ReadFile(dir_.path() + "/changed.bin") == changed);
  EXPECT_EQ(ServerOffset(old_id), -1);  // the old session was cancelled
}

TEST_F(FilesCliTest, AKilledDownloadResumesFromThePartFile) {
  std::string big = dir_.path() + "/weights.bin";
  std::string content = RandomBytes(12 * 1024 * 1024, 5);
  WriteFile(big, content);
  ASSERT_EQ(Cli({"cp", big, "pc:models/weights.bin"}).exit_code, 0);

  std::string local = dir_.path() + "/dl/weights.bin";
  fs::create_directories(dir_.path() + "/dl");
  auto slow = Start({"cp", "--limit-rate", "1M", "pc:models/weights.bin", local});
  std::error_code ec;
  ASSERT_TRUE(testing::WaitFor([&] { return fs::file_size(local + ".part", ec) > 0 && !ec; }, 60s)) << slow->Err();
  slow.reset();
  auto partial = fs::file_size(local + ".part");
  ASSERT_LT(partial, content.size());
  EXPECT_FALSE(fs::exists(local));

  Outcome resumed = Cli({"cp", "pc:models/weights.bin", local});
  ASSERT_EQ(resumed.exit_code, 0) << resumed << server_->Log();
  EXPECT_NE(resumed.err.find("resuming models/weights.bin at "), std::string::npos) << resumed;
  EXPECT_TRUE(testing::ReadFile(local) == content);
  EXPECT_FALSE(fs::exists(local + ".part"));

  // A part file of a file that has changed since is not continued.
  auto slow2 = Start({"cp", "--limit-rate", "1M", "pc:models/weights.bin", dir_.path() + "/dl/w2.bin"});
  ASSERT_TRUE(testing::WaitFor([&] { return fs::file_size(dir_.path() + "/dl/w2.bin.part", ec) > 0 && !ec; }, 60s));
  slow2.reset();
  std::string replaced = RandomBytes(12 * 1024 * 1024, 6);
  WriteFile(big, replaced);
  ASSERT_EQ(Cli({"cp", big, "pc:models/weights.bin"}).exit_code, 0);
  Outcome restarted = Cli({"cp", "pc:models/weights.bin", dir_.path() + "/dl/w2.bin"});
  ASSERT_EQ(restarted.exit_code, 0) << restarted << server_->Log();
  EXPECT_TRUE(testing::ReadFile(dir_.path() + "/dl/w2.bin") == replaced);
}

TEST_F(FilesCliTest, ShareUnshareAndPublish) {
  fs::path data = dir_.path() + "/mnist";
  WriteFile(data / "train.csv", "x,y\n1,2\n");
  WriteFile(data / "images" / "0.png", RandomBytes(1000, 7));
  ASSERT_EQ(Cli({"cp", "-r", data.string(), "pc:datasets/"}).exit_code, 0);
  std::string bob_token;
  std::string bob = SignUp("bob@example.com", "bob-lab", bob_token);

  Outcome share = Cli({"share", "datasets/mnist", "--account", "bob-lab"});
  ASSERT_EQ(share.exit_code, 0) << share << server_->Log();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(share.out, m, std::regex("^Share (\\d+): datasets/mnist with bob-lab\n"))) << share;
  std::string account_share = m[1].str();
  Outcome seen = CliAs(bob, {"ls", "shared/ann-lab/datasets/mnist"});
  ASSERT_EQ(seen.exit_code, 0) << seen;
  EXPECT_EQ(seen.out, "images/\ntrain.csv\n");
  Outcome fetched = CliAs(bob, {"cp", "-r", "pc:shared/ann-lab/datasets/mnist", dir_.path() + "/bob-copy"});
  ASSERT_EQ(fetched.exit_code, 0) << fetched;
  EXPECT_EQ(Tree(dir_.path() + "/bob-copy"), Tree(data));
  Outcome read_only = CliAs(bob, {"rm", "shared/ann-lab/datasets/mnist/train.csv"});
  EXPECT_EQ(read_only.exit_code, 1) << read_only;
  Outcome with_me = CliAs(bob, {"shares", "--with-me"});
  EXPECT_NE(with_me.out.find("shared/ann-lab/datasets/mnist"), std::string::npos) << with_me;

  Outcome link = Cli({"share", "datasets/mnist", "--link", "--expires", "7d"});
  ASSERT_EQ(link.exit_code, 0) << link;
  ASSERT_TRUE(std::regex_search(link.out, m,
                                std::regex("^Share (\\d+): datasets/mnist by link, until [0-9: -]+\n" + RegexEscape(server_url_) +
                                           "/s/([A-Za-z0-9_-]+)\n")))
      << link;
  std::string link_share = m[1].str(), token = m[2].str();
  auto anonymous = testing::Request(addr_, "GET", "/api/v1/links/" + token + "/files/");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 200) << anonymous->body;
  EXPECT_NE(anonymous->body.find("train.csv"), std::string::npos) << anonymous->body;

  Outcome shares = Cli({"shares"});
  ASSERT_EQ(shares.exit_code, 0) << shares;
  EXPECT_TRUE(shares.out.starts_with("ID")) << shares;
  EXPECT_NE(shares.out.find("bob-lab"), std::string::npos) << shares;
  EXPECT_NE(shares.out.find(server_url_ + "/s/" + token), std::string::npos) << shares;

  EXPECT_EQ(Cli({"unshare", account_share}).out, "Revoked share " + account_share + "\n");
  EXPECT_EQ(CliAs(bob, {"ls", "shared/ann-lab/datasets/mnist"}).exit_code, 1);
  ASSERT_EQ(Cli({"unshare", link_share}).exit_code, 0);
  EXPECT_EQ(testing::Request(addr_, "GET", "/api/v1/links/" + token + "/files/")->status, 404);
  Outcome twice = Cli({"unshare", link_share});
  EXPECT_EQ(twice.exit_code, 1) << twice;
  EXPECT_EQ(Cli({"shares"}).out, "No shares.\n");
  Outcome not_shareable = Cli({"share", "workspace", "--account", "bob-lab"});
  EXPECT_EQ(not_shareable.exit_code, 1) << not_shareable;

  Outcome publish = Cli({"publish", "datasets/mnist", "--name", "mnist", "--version", "1.0", "--description", "digits"});
  ASSERT_EQ(publish.exit_code, 0) << publish << server_->Log();
  EXPECT_TRUE(std::regex_search(
      publish.out, std::regex("^Published dataset mnist 1\\.0 \\(id \\d+\\) as public/datasets/ann-lab/mnist/1\\.0: 2 files, ")))
      << publish;
  Outcome published = CliAs(bob, {"ls", "public/datasets/ann-lab/mnist/1.0"});
  EXPECT_EQ(published.out, "images/\ntrain.csv\n") << published;
  Outcome duplicate = Cli({"publish", "datasets/mnist", "--name", "mnist", "--version", "1.0"});
  EXPECT_EQ(duplicate.exit_code, 1) << duplicate;
  Outcome bad_name = Cli({"publish", "datasets/mnist", "--name", "Not A Name", "--version", "1.0"});
  EXPECT_EQ(bad_name.exit_code, 1) << bad_name;
  EXPECT_NE(bad_name.err.find("name"), std::string::npos) << bad_name;
}

TEST_F(FilesCliTest, BadPathsAndServerErrorsAreClear) {
  WriteFile(dir_.path() + "/f.txt", "f\n");
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"ls", "datasets/../x"},
           {"cp", dir_.path() + "/f.txt", "pc:datasets/../../etc"},
           {"cp", "pc:datasets/./f", dir_.path()},
           {"mkdir", "datasets//x"},
           {"rm", "..\\x"},
           {"mv", "datasets/a", "datasets/../b"}}) {
    Outcome bad = Cli(args);
    EXPECT_EQ(bad.exit_code, 2) << args[0] << "\n" << bad;
    EXPECT_NE(bad.err.find("paddlecloud: invalid cloud path '"), std::string::npos) << bad;
  }
  EXPECT_NE(Cli({"ls", "datasets/../x"}).err.find("'..' segments are not allowed"), std::string::npos);
  // The server refuses them too (field path), whatever a client sends.
  auto raw = Api("POST", "/api/v1/folders", R"({"path":"datasets/../x"})");
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->status, 400) << raw->body;
  EXPECT_NE(raw->body.find("\"field\":\"path\""), std::string::npos) << raw->body;

  Outcome missing = Cli({"ls", "datasets/nothing"});
  EXPECT_EQ(missing.exit_code, 1) << missing;
  EXPECT_TRUE(missing.err.starts_with("paddlecloud: ")) << missing;
  Outcome read_only = Cli({"cp", dir_.path() + "/f.txt", "pc:public/datasets/f.txt"});
  EXPECT_EQ(read_only.exit_code, 1) << read_only;
  EXPECT_TRUE(read_only.err.starts_with("paddlecloud: ")) << read_only;
  Outcome no_file = Cli({"cp", "pc:datasets/nothing.bin", dir_.path()});
  EXPECT_EQ(no_file.exit_code, 1) << no_file;

  // Usage errors: 2.
  fs::create_directories(dir_.path() + "/folder");
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"cp", dir_.path() + "/f.txt"},                               // no DEST
           {"cp", dir_.path() + "/f.txt", dir_.path() + "/g.txt"},      // local to local
           {"cp", dir_.path() + "/folder", "pc:datasets/"},             // a folder without -r
           {"cp", dir_.path() + "/missing", "pc:datasets/"},
           {"cp", "--limit-rate", "fast", dir_.path() + "/f.txt", "pc:datasets/"},
           {"cp", dir_.path() + "/f.txt", "pc:datasets/x", dir_.path() + "/g"},  // mixed
           {"ls", "--sort", "color"},
           {"share", "datasets/x"},
           {"share", "datasets/x", "--account", "b", "--link"},
           {"share", "datasets/x", "--link", "--expires", "soon"},
           {"unshare", "abc"},
           {"publish", "workspace/x", "--name", "n", "--version", "1"},  // no --kind, not in models/ or datasets/
           {"publish", "models/x", "--name", "n"},
           {"rm"},
           {"mv", "a"}}) {
    Outcome run = Cli(args);
    std::string shown;
    for (const auto& a : args) shown += a + " ";
    EXPECT_EQ(run.exit_code, 2) << shown << "\n" << run;
    EXPECT_FALSE(run.err.empty()) << shown;
  }
  for (std::string sub : {"ls", "cp", "rm", "mkdir", "mv", "share", "unshare", "shares", "publish"}) {
    Outcome help = Cli({sub, "--help"});
    EXPECT_EQ(help.exit_code, 0) << sub << "\n" << help;
    EXPECT_NE(help.out.find("--server"), std::string::npos) << help;
  }
  EXPECT_NE(Cli({"cp", "--help"}).out.find("--limit-rate"), std::string::npos);
}

class FilesCliQuotaTest : public FilesCliTest {
 protected:
  std::vector<std::string> ServerFlags() const override { return {"--storage-quota", "1MiB"}; }
};

TEST_F(FilesCliQuotaTest, QuotaExceededIsTheServersMessage) {
  std::string big = dir_.path() + "/big.bin";
  WriteFile(big, RandomBytes(2 * 1024 * 1024, 8));
  Outcome over = Cli({"cp", big, "pc:datasets/big.bin"});
  EXPECT_EQ(over.exit_code, 1) << over;
  EXPECT_TRUE(over.err.starts_with("paddlecloud: ")) << over;
  EXPECT_NE(over.err.find("quota"), std::string::npos) << over;
  EXPECT_TRUE(UploadStates().empty());
  EXPECT_EQ(Cli({"ls", "datasets"}).out, "");
}

// The CLI and the SDK share upload state files (docs/upload-state.md): an upload the CLI began and
// was killed in is finished by the SDK, and one the SDK began and stopped is finished by the CLI.
TEST_F(FilesCliTest, UploadsResumeAcrossCliAndSdk) {
  auto sdk = [&](const std::string& code) {
    std::string script = "import sys\nsys.path.insert(0, \"" + std::string(PADDLECLOUD_SOURCE_DIR) +
                         "/sdk/python\")\nfrom paddlecloud import upload\n" + code;
    return test::RunProgram({"python3", "-c", script}, home_, "", {}, 120s);
  };
  std::string cli_first = dir_.path() + "/cli first.bin", sdk_first = dir_.path() + "/sdk-first.bin";
  std::string a = RandomBytes(8 << 20, 21), b = RandomBytes(6 << 20, 22);
  WriteFile(cli_first, a);
  WriteFile(sdk_first, b);

  std::string id;
  std::int64_t kept = 0;
  ASSERT_NO_FATAL_FAILURE(KillMidUpload(Start({"cp", "--limit-rate", "2M", cli_first, "pc:models/a.bin"}), id, kept));
  Outcome finished = sdk("r = upload(r'" + cli_first + "', 'models/a.bin')\nprint(r['resumed_bytes'])\n");
  ASSERT_EQ(finished.exit_code, 0) << finished << server_->Log();
  EXPECT_GE(std::stoll(finished.out), kept) << finished;  // continued, not started over
  EXPECT_LT(std::stoll(finished.out), 8 << 20) << finished;
  EXPECT_TRUE(UploadStates().empty());
  EXPECT_EQ(ServerOffset(id), -1);  // the session is over

  Outcome stopped = sdk(R"(
class Stop(Exception):
    pass
def stop(sent, total):
    if sent >= 3 << 20:
        raise Stop()
try:
    upload(r')" + sdk_first + R"(', 'models/b.bin', progress=stop, chunk_size=1 << 20)
except Stop:
    print('stopped')
)");
  ASSERT_EQ(stopped.out, "stopped\n") << stopped;
  ASSERT_EQ(UploadStates().size(), 1u);
  id = std::string(UploadStates().front().at("id").as_string());
  kept = ServerOffset(id);
  ASSERT_GT(kept, 0);
  Outcome resumed = Cli({"cp", sdk_first, "pc:models/b.bin"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed << server_->Log();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(resumed.err, m, std::regex("resuming " + RegexEscape(sdk_first) + " at (\\d+) bytes\n")))
      << resumed;
  EXPECT_EQ(std::stoll(m[1].str()), kept);
  EXPECT_TRUE(UploadStates().empty());

  ASSERT_EQ(Cli({"cp", "pc:models/a.bin", "pc:models/b.bin", dir_.path() + "/back/"}).exit_code, 0);
  EXPECT_TRUE(testing::ReadFile(dir_.path() + "/back/a.bin") == a);
  EXPECT_TRUE(testing::ReadFile(dir_.path() + "/back/b.bin") == b);
}

// On a terminal each file gets a progress line (percent, bytes, rate), redrawn in place.
TEST_F(FilesCliTest, ProgressOnATerminal) {
  std::string file = dir_.path() + "/weights.bin";
  WriteFile(file, RandomBytes(3 << 20, 9));
  std::string script = R"PY(
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], ["paddlecloud"] + sys.argv[2:])
seen = b""
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode())
sys.exit(os.waitstatus_to_exitcode(status))
)PY";
  Outcome run = test::RunProgram({"python3", "-c", script, testing::PaddlecloudBinary(), "cp", "--limit-rate", "6M", file,
                                  "pc:models/"},
                                 home_, "", {}, 90s);
  EXPECT_EQ(run.exit_code, 0) << run;
  EXPECT_TRUE(std::regex_search(run.out, std::regex("\r\\S*weights.bin  100% 3\\.0 MiB / 3\\.0 MiB"))) << run;
  EXPECT_TRUE(std::regex_search(run.out, std::regex("\r\\S*weights.bin +[0-9 ]{2}[0-9]% [0-9.]+ [KMG]?i?B / 3\\.0 MiB  [0-9.]+ [KMG]?i?B/s")))
      << run;
  EXPECT_NE(run.out.find("Uploaded 1 file (3.0 MiB)"), std::string::npos) << run;
}

}  // namespace
}  // namespace paddlecloud::client
