// Datasets and models end to end: the real binary over HTTP, files on the real filesystem.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <thread>

#include "testing/http_client.h"
#include "testing/platform_fixture.h"
#include "testing/server_process.h"

namespace paddlecloud {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::HttpReply;

std::string RandomBytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng());
  return out;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Percent-encodes a cloud path for a URL (keeps '/').
std::string UrlPath(const std::string& path) {
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.') {
      out += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

class FilesTest : public testing::PlatformTest {
 protected:
  void TearDown() override {
    if (!mounted_.empty()) {
      if (server_) server_->Stop(SIGTERM);
      ::umount2(mounted_.c_str(), MNT_DETACH);
    }
  }
  void Start(std::vector<std::string> extra = {}) {
    StartServer(std::move(extra));
    ann_ = RegisterUser("ann@example.com", "ann-lab");
    bob_ = RegisterUser("bob@example.com", "bob-lab");
  }
  std::optional<HttpReply> Call(const std::string& token, const std::string& method, const std::string& target,
                                const json::value& body = nullptr, const std::string& extra_headers = "") {
    std::string headers = token.empty() ? "" : "Authorization: Bearer " + token + "\r\n";
    std::string text = body.is_null() ? "" : json::serialize(body);
    if (!text.empty()) headers += "Content-Type: application/json\r\n";
    return testing::Request(addr_, method, target, text, headers + extra_headers);
  }
  std::optional<HttpReply> Raw(const std::string& token, const std::string& method, const std::string& target,
                               const std::string& body, const std::string& extra_headers = "") {
    return testing::Request(addr_, method, target, body, "Authorization: Bearer " + token + "\r\n" + extra_headers);
  }
  // Uploads `content` to `path` in chunks of `chunk` bytes; the last reply.
  HttpReply Upload(const std::string& token, const std::string& path, const std::string& content,
                   std::size_t chunk = 1 << 20) {
    auto created = Call(token, "POST", "/api/v1/uploads",
                        {{"path", path}, {"size", static_cast<std::int64_t>(content.size())}});
    EXPECT_EQ(created->status, 201) << created->body;
    if (created->status != 201) return *created;
    json::value up = json::parse(created->body);
    if (content.empty()) return *created;
    std::string id(up.at("id").as_string());
    HttpReply last;
    for (std::size_t at = 0; at < content.size(); at += chunk) {
      std::size_t n = std::min(chunk, content.size() - at);
      last = *Raw(token, "PUT", "/api/v1/uploads/" + id, content.substr(at, n),
                  "Content-Range: bytes " + std::to_string(at) + "-" + std::to_string(at + n - 1) + "/" +
                      std::to_string(content.size()) + "\r\n");
      if (last.status != 200) break;
    }
    return last;
  }
  std::string Files() const { return dir_.path() + "/data/files"; }
  // Submits a one-trainer job of Ann's running `entry`; its id.
  std::string SubmitJob(const std::string& name, const std::string& entry) {
    auto job = Call(ann_, "POST", "/api/v1/jobs",
                    {{"name", name}, {"entry", entry}, {"cpu_per_trainer", "100m"}, {"mem_per_trainer", "64Mi"}});
    EXPECT_EQ(job->status, 201) << job->body;
    return job->status == 201 ? std::to_string(json::parse(job->body).at("id").as_int64()) : "";
  }
  std::vector<std::string> Staged() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(Files() + "/.staging")) out.push_back(e.path().filename());
    return out;
  }

  std::string ann_, bob_;
  std::string mounted_;
};

TEST_F(FilesTest, UploadDownloadAndBrowseWithUnicodeNames) {
  Start();
  std::string big = RandomBytes(3 * (1 << 20) + 123, 1);
  std::string name = "datasets/my data/训练 集 ü.bin";
  auto done = Upload(ann_, name, big, 1 << 20);
  ASSERT_EQ(done.status, 200) << done.body;
  json::value reply = json::parse(done.body);
  EXPECT_TRUE(reply.at("complete").as_bool());
  EXPECT_EQ(reply.at("file").at("uploaded_by").as_string(), "ann@example.com");
  EXPECT_EQ(ReadFile(Files() + "/ann-lab/" + name), big);

  auto listing = Call(ann_, "GET", "/api/v1/files/" + UrlPath("datasets/my data"));
  ASSERT_EQ(listing->status, 200) << listing->body;
  auto entries = json::parse(listing->body).at("entries").as_array();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].at("path").as_string(), name);
  EXPECT_EQ(entries[0].at("size").as_int64(), static_cast<std::int64_t>(big.size()));

  auto whole = Call(ann_, "GET", "/api/v1/download/" + UrlPath(name));
  ASSERT_EQ(whole->status, 200);
  EXPECT_EQ(whole->body, big);
  EXPECT_NE(whole->header("content-disposition").find("attachment"), std::string::npos);
  std::string etag = whole->header("etag");
  EXPECT_EQ(Call(ann_, "GET", "/api/v1/download/" + UrlPath(name), nullptr, "If-None-Match: " + etag + "\r\n")->status,
            304);
  auto part = Call(ann_, "GET", "/api/v1/download/" + UrlPath(name), nullptr, "Range: bytes=1000000-1000099\r\n");
  ASSERT_EQ(part->status, 206);
  EXPECT_EQ(part->body, big.substr(1000000, 100));
  EXPECT_EQ(Call(ann_, "GET", "/api/v1/download/" + UrlPath(name), nullptr, "Range: bytes=99999999-\r\n")->status, 416);

  // A folder downloads as a tar stream that tar extracts to the same bytes.
  ASSERT_EQ(Upload(ann_, "datasets/my data/sub/small.csv", "a,b\n1,2\n").status, 200);
  auto tar = Call(ann_, "GET", "/api/v1/download/" + UrlPath("datasets/my data"));
  ASSERT_EQ(tar->status, 200);
  EXPECT_EQ(tar->header("content-type"), "application/x-tar");
  std::ofstream(dir_.path() + "/folder.tar", std::ios::binary) << tar->body;
  fs::create_directories(dir_.path() + "/extracted");
  ASSERT_EQ(testing::RunCommand("tar -xf " + dir_.path() + "/folder.tar -C " + dir_.path() + "/extracted && echo ok"),
            "ok\n");
  EXPECT_EQ(ReadFile(dir_.path() + "/extracted/my data/训练 集 ü.bin"), big);
  EXPECT_EQ(ReadFile(dir_.path() + "/extracted/my data/sub/small.csv"), "a,b\n1,2\n");

  // Rename, new folder, delete with and without recursive.
  ASSERT_EQ(Call(ann_, "PATCH", "/api/v1/files/" + UrlPath("datasets/my data"), {{"path", "datasets/renamed"}})->status, 200);
  EXPECT_EQ(Call(ann_, "POST", "/api/v1/folders", {{"path", "datasets/renamed"}})->status, 409);
  EXPECT_EQ(Call(ann_, "DELETE", "/api/v1/files/datasets/renamed")->status, 409);
  EXPECT_EQ(Call(ann_, "DELETE", "/api/v1/files/datasets/renamed?recursive=true")->status, 204);
  EXPECT_EQ(Call(ann_, "GET", "/api/v1/files/datasets/renamed")->status, 404);
  auto usage = json::parse(Call(ann_, "GET", "/api/v1/storage")->body);
  EXPECT_EQ(usage.at("used_bytes").as_int64(), 0);
}

TEST_F(FilesTest, BadPathsAndOtherTenantsAreRefused) {
  Start();
  ASSERT_EQ(Upload(ann_, "datasets/mine.csv", "x").status, 200);
  for (const std::string& bad : std::vector<std::string>{"datasets/../x", "/etc/passwd", std::string("datasets/a\0b", 12), "datasets\\x",
                          "datasets/" + std::string(256, 'n')}) {
    auto r = Call(ann_, "POST", "/api/v1/uploads", {{"path", bad}, {"size", 1}});
    EXPECT_EQ(r->status, 400) << bad << " " << r->body;
    EXPECT_EQ(json::parse(r->body).at("error").at("details").at("field").as_string(), "path") << r->body;
  }
  EXPECT_EQ(Call(ann_, "GET", "/api/v1/files/datasets/%2e%2e/%2e%2e")->status, 400);
  // Another tenant's files do not exist for bob; public and shared space is read-only.
  EXPECT_EQ(Call(bob_, "GET", "/api/v1/download/datasets/mine.csv")->status, 404);
  EXPECT_EQ(Call(bob_, "GET", "/api/v1/files/shared/ann-lab/datasets/mine.csv")->status, 404);
  EXPECT_EQ(Call(bob_, "POST", "/api/v1/uploads", {{"path", "public/datasets/x"}, {"size", 1}})->status, 403);
  EXPECT_EQ(Call(bob_, "POST", "/api/v1/folders", {{"path", "shared/ann-lab/x"}})->status, 403);
  // A symbolic link planted in a space (as a job could) is never followed.
  fs::create_symlink("/etc", Files() + "/ann-lab/datasets/etc");
  fs::create_symlink("/etc/hostname", Files() + "/ann-lab/datasets/hostname");
  auto listing = json::parse(Call(ann_, "GET", "/api/v1/files/datasets")->body);
  EXPECT_EQ(listing.at("entries").as_array().size(), 1u);
  EXPECT_EQ(Call(ann_, "GET", "/api/v1/download/datasets/etc/passwd")->status, 404);
  EXPECT_EQ(Call(ann_, "GET", "/api/v1/download/datasets/hostname")->status, 404);
  // Writing through it fails when the upload completes, and nothing lands outside the space.
  auto through = json::parse(Call(ann_, "POST", "/api/v1/uploads", {{"path", "datasets/etc/evil"}, {"size", 1}})->body);
  EXPECT_EQ(Raw(ann_, "PUT", "/api/v1/uploads/" + std::string(through.at("id").as_string()), "x")->status, 409);
  EXPECT_FALSE(fs::exists("/etc/evil"));
  auto bad_json = Call(ann_, "POST", "/api/v1/uploads", {{"path", 7}});
  EXPECT_EQ(bad_json->status, 400);
  EXPECT_NE(bad_json->body.find("\"path\""), std::string::npos);
  EXPECT_EQ(Call(ann_, "GET", "/healthz")->status, 200);
}

TEST_F(FilesTest, ResumesAtTheServersOffsetAndNeverShowsATornFile) {
  Start({"--upload-ttl", "2s"});
  std::string content = RandomBytes(1 << 20, 2);
  auto created = Call(ann_, "POST", "/api/v1/uploads", {{"path", "models/m.bin"}, {"size", 1 << 20}});
  std::string id(json::parse(created->body).at("id").as_string());
  // A client sends half of what it announced and disconnects: the server keeps what arrived.
  {
    testing::RawConnection c(addr_);
    ASSERT_TRUE(c.Send("PUT /api/v1/uploads/" + id + " HTTP/1.1\r\nHost: " + addr_ + "\r\nAuthorization: Bearer " + ann_ +
                       "\r\nContent-Length: " + std::to_string(content.size()) + "\r\n\r\n" +
                       content.substr(0, 300000)));
  }
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        auto r = Call(ann_, "GET", "/api/v1/uploads/" + id);
        return json::parse(r->body).at("offset").as_int64() == 300000;
      },
      10s));
  EXPECT_EQ(Call(ann_, "GET", "/api/v1/files/models/m.bin")->status, 404);  // nothing partial is visible
  std::uint64_t offset = 0;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        auto r = Call(ann_, "GET", "/api/v1/uploads/" + id);
        offset = static_cast<std::uint64_t>(json::parse(r->body).at("offset").as_int64());
        return r->header("upload-offset") == std::to_string(offset);
      },
      10s));
  // A wrong offset is 409 with the server's offset.
  auto wrong = Raw(ann_, "PUT", "/api/v1/uploads/" + id, content.substr(0, 10), "Content-Range: bytes 0-9/1048576\r\n");
  EXPECT_EQ(wrong->status, 409);
  EXPECT_EQ(wrong->header("upload-offset"), std::to_string(offset));
  EXPECT_EQ(json::parse(wrong->body).at("error").at("details").at("offset").as_string(), std::to_string(offset));
  auto rest = Raw(ann_, "PUT", "/api/v1/uploads/" + id, content.substr(offset),
                  "Content-Range: bytes " + std::to_string(offset) + "-1048575/1048576\r\n");
  ASSERT_EQ(rest->status, 200) << rest->body;
  EXPECT_TRUE(json::parse(rest->body).at("complete").as_bool());
  EXPECT_EQ(Call(ann_, "GET", "/api/v1/download/models/m.bin")->body, content);

  // A body sent chunked (no Content-Length) streams the same way.
  auto chunked = json::parse(Call(ann_, "POST", "/api/v1/uploads", {{"path", "models/chunked.bin"}})->body);
  {
    testing::RawConnection c(addr_);
    ASSERT_TRUE(c.Send("PUT /api/v1/uploads/" + std::string(chunked.at("id").as_string()) +
                       " HTTP/1.1\r\nHost: " + addr_ + "\r\nAuthorization: Bearer " + ann_ +
                       "\r\nTransfer-Encoding: chunked\r\nContent-Range: bytes 0-10/11\r\n\r\n"
                       "6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n"));
    auto reply = c.ReadReply();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 200) << reply->body;
  }
  EXPECT_EQ(Call(ann_, "GET", "/api/v1/download/models/chunked.bin")->body, "hello world");

  // Two uploads of one path at once: whichever completes last wins, whole.
  std::string a(200000, 'a'), b(300000, 'b');
  auto first = json::parse(Call(ann_, "POST", "/api/v1/uploads", {{"path", "models/race.bin"}, {"size", 200000}})->body);
  auto second = json::parse(Call(ann_, "POST", "/api/v1/uploads", {{"path", "models/race.bin"}, {"size", 300000}})->body);
  std::thread t1([&] { Raw(ann_, "PUT", "/api/v1/uploads/" + std::string(first.at("id").as_string()), a); });
  std::thread t2([&] { Raw(ann_, "PUT", "/api/v1/uploads/" + std::string(second.at("id").as_string()), b); });
  t1.join();
  t2.join();
  std::string raced = Call(ann_, "GET", "/api/v1/download/models/race.bin")->body;
  EXPECT_TRUE(raced == a || raced == b) << raced.size();

  // An abandoned upload expires and its data is removed.
  auto abandoned = json::parse(Call(ann_, "POST", "/api/v1/uploads", {{"path", "models/gone.bin"}})->body);
  std::string gone(abandoned.at("id").as_string());
  ASSERT_EQ(Raw(ann_, "PUT", "/api/v1/uploads/" + gone, "partial", "Content-Range: bytes 0-6/*\r\n")->status, 200);
  EXPECT_TRUE(testing::WaitFor([&] { return Staged().empty(); }, 20s));
  EXPECT_EQ(Call(ann_, "GET", "/api/v1/uploads/" + gone)->status, 404);
}

TEST_F(FilesTest, QuotaRefusesOrStopsUploadsAndLeavesNothingPartial) {
  Start({"--storage-quota", "1MiB"});
  auto refused = Call(ann_, "POST", "/api/v1/uploads", {{"path", "datasets/big"}, {"size", 2 << 20}});
  ASSERT_EQ(refused->status, 403);
  EXPECT_EQ(json::parse(refused->body).at("error").at("code").as_string(), "quota_exceeded");
  // Unknown size: stopped once past the quota, its data removed.
  auto open = json::parse(Call(ann_, "POST", "/api/v1/uploads", {{"path", "datasets/stream"}})->body);
  auto stopped = Raw(ann_, "PUT", "/api/v1/uploads/" + std::string(open.at("id").as_string()), RandomBytes(2 << 20, 3),
                     "Content-Range: bytes 0-2097151/*\r\n");
  ASSERT_EQ(stopped->status, 403) << stopped->body;
  EXPECT_NE(stopped->body.find("quota"), std::string::npos);
  EXPECT_TRUE(Staged().empty());
  EXPECT_EQ(Call(ann_, "GET", "/api/v1/files/datasets/stream")->status, 404);
  ASSERT_EQ(Upload(ann_, "datasets/fits", std::string(1000, 'x')).status, 200);
  EXPECT_EQ(json::parse(Call(ann_, "GET", "/api/v1/storage")->body).at("quota_bytes").as_int64(), 1 << 20);
}

TEST_F(FilesTest, AFullDiskIsAClearErrorWithNothingPartialLeft) {
  // A real full disk: the data dir's file store on a 2 MiB tmpfs (needs the privilege to mount).
  fs::create_directories(Files());
  if (::mount("tmpfs", Files().c_str(), "tmpfs", 0, "size=2m") != 0)
    GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
  mounted_ = Files();
  Start();
  auto open = json::parse(Call(ann_, "POST", "/api/v1/uploads", {{"path", "datasets/huge"}, {"size", 3 << 20}})->body);
  auto full = Raw(ann_, "PUT", "/api/v1/uploads/" + std::string(open.at("id").as_string()), RandomBytes(3 << 20, 4));
  ASSERT_EQ(full->status, 507) << full->body;
  EXPECT_EQ(json::parse(full->body).at("error").at("code").as_string(), "insufficient_storage");
  EXPECT_TRUE(Staged().empty());
  EXPECT_EQ(Call(ann_, "GET", "/api/v1/files/datasets/huge")->status, 404);
  EXPECT_EQ(Upload(ann_, "datasets/small", "still works").status, 200);
}

TEST_F(FilesTest, SharingWithAnAccountAndByLink) {
  Start();
  ASSERT_EQ(Upload(ann_, "datasets/mnist/train.csv", "x,y\n1,2\n").status, 200);
  EXPECT_EQ(Call(ann_, "POST", "/api/v1/shares", {{"path", "datasets/mnist"}, {"account", "nobody"}})->status, 400);
  auto share = Call(ann_, "POST", "/api/v1/shares", {{"path", "datasets/mnist"}, {"account", "bob-lab"}});
  ASSERT_EQ(share->status, 201) << share->body;
  auto mine = json::parse(Call(bob_, "GET", "/api/v1/shared-with-me")->body).at("shares").as_array();
  ASSERT_EQ(mine.size(), 1u);
  std::string mount(mine[0].at("mount").as_string());
  EXPECT_EQ(mount, "shared/ann-lab/datasets/mnist");
  EXPECT_EQ(Call(bob_, "GET", "/api/v1/download/" + mount + "/train.csv")->body, "x,y\n1,2\n");
  EXPECT_EQ(Call(bob_, "POST", "/api/v1/uploads", {{"path", mount + "/evil.csv"}, {"size", 1}})->status, 403);
  EXPECT_EQ(Call(bob_, "DELETE", "/api/v1/files/" + mount + "/train.csv")->status, 403);

  auto link = Call(ann_, "POST", "/api/v1/shares", {{"path", "datasets/mnist"}, {"link", true}});
  ASSERT_EQ(link->status, 201);
  std::string url(json::parse(link->body).at("link").as_string());
  std::string token = url.substr(url.rfind('/') + 1);
  auto anonymous = testing::Request(addr_, "GET", "/api/v1/links/" + token + "/download/train.csv");
  EXPECT_EQ(anonymous->body, "x,y\n1,2\n");
  EXPECT_EQ(testing::Request(addr_, "GET", "/api/v1/links/" + token + "/files/")->status, 200);
  // Revoked: gone for both.
  for (auto* s : {&share, &link})
    EXPECT_EQ(Call(ann_, "DELETE", "/api/v1/shares/" + std::to_string(json::parse((*s)->body).at("id").as_int64()))->status,
              204);
  EXPECT_EQ(testing::Request(addr_, "GET", "/api/v1/links/" + token + "/download/train.csv")->status, 404);
  EXPECT_EQ(Call(bob_, "GET", "/api/v1/download/" + mount + "/train.csv")->status, 404);
}

TEST_F(FilesTest, PublishedModelsAreBrowsableAndCopyable) {
  Start();
  ASSERT_EQ(Upload(ann_, "models/out/model.bin", "weights").status, 200);
  auto published = Call(ann_, "POST", "/api/v1/publications",
                        {{"kind", "model"}, {"name", "fit-a-line"}, {"version", "1.0"}, {"description", "linear"},
                         {"path", "models/out"}});
  ASSERT_EQ(published->status, 201) << published->body;
  auto browse = json::parse(Call(bob_, "GET", "/api/v1/publications?kind=model")->body).at("publications").as_array();
  ASSERT_EQ(browse.size(), 1u);
  EXPECT_EQ(browse[0].at("path").as_string(), "public/models/ann-lab/fit-a-line/1.0");
  EXPECT_EQ(Call(bob_, "POST", "/api/v1/copies", {{"from", "public/models/ann-lab/fit-a-line/1.0"}, {"to", "models/fal"}})
                ->status,
            201);
  EXPECT_EQ(Call(bob_, "GET", "/api/v1/download/models/fal/model.bin")->body, "weights");
  EXPECT_EQ(Call(bob_, "DELETE", "/api/v1/publications/" + std::to_string(browse[0].at("id").as_int64()))->status, 403);
}

TEST_F(FilesTest, SharesLinksAndPublishingAreAuditedWithoutTheLinkAndOnlyForTheirAccount) {
  Start();
  ASSERT_EQ(Upload(ann_, "datasets/mnist/train.csv", "x,y\n1,2\n").status, 200);
  ASSERT_EQ(Upload(ann_, "models/out/model.bin", "weights").status, 200);
  auto share = Call(ann_, "POST", "/api/v1/shares", {{"path", "datasets/mnist"}, {"account", "bob-lab"}});
  auto link = Call(ann_, "POST", "/api/v1/shares", {{"path", "datasets/mnist"}, {"link", true}});
  ASSERT_EQ(link->status, 201);
  std::string url(json::parse(link->body).at("link").as_string());
  std::string token = url.substr(url.rfind('/') + 1);
  auto published = Call(ann_, "POST", "/api/v1/publications",
                        {{"kind", "model"}, {"name", "fal"}, {"version", "1"}, {"path", "models/out"}});
  ASSERT_EQ(published->status, 201);
  ASSERT_EQ(Call(ann_, "DELETE", "/api/v1/shares/" + std::to_string(json::parse(link->body).at("id").as_int64()))->status, 204);
  ASSERT_EQ(Call(ann_, "DELETE", "/api/v1/publications/" + std::to_string(json::parse(published->body).at("id").as_int64()))
                ->status, 204);

  auto audit = Call(ann_, "GET", "/api/v1/account/audit?kind=share,publication");
  ASSERT_EQ(audit->status, 200) << audit->body;
  EXPECT_EQ(audit->body.find(token), std::string::npos) << "a link's token is its secret";
  json::value listed = json::parse(audit->body);
  std::vector<std::string> events;
  for (const auto& e : listed.at("items").as_array()) events.emplace_back(e.at("event").as_string());
  EXPECT_EQ(events, (std::vector<std::string>{"publication.withdrawn", "share.link_revoked", "publication.created",
                                               "share.link_created", "share.created"}));
  ASSERT_EQ(events.size(), 5u);
  json::value first = listed.at("items").as_array().back().at("details");
  EXPECT_EQ(first.at("path").as_string(), "datasets/mnist");
  EXPECT_EQ(first.at("account").as_string(), "bob-lab");
  // Kinds and times filter; the sign-in events are not among them.
  auto logins = json::parse(Call(ann_, "GET", "/api/v1/account/audit?kind=login")->body).at("items").as_array();
  for (const auto& e : logins) EXPECT_TRUE(e.at("event").as_string().starts_with("login.")) << e;
  EXPECT_TRUE(json::parse(Call(ann_, "GET", "/api/v1/account/audit?since=4102444800")->body).at("items").as_array().empty());
  EXPECT_EQ(json::parse(Call(ann_, "GET", "/api/v1/account/audit?kind=share&until=1")->body).at("items").as_array().size(), 0u);
  for (const char* bad : {"kind=shares", "since=yesterday", "limit=0"}) {
    auto r = Call(ann_, "GET", std::string("/api/v1/account/audit?") + bad);
    EXPECT_EQ(r->status, 400) << bad;
    EXPECT_EQ(json::parse(r->body).at("error").at("details").at("field").as_string(),
              std::string(bad).substr(0, std::string(bad).find('=')));
  }
  // The grantee's master sees nothing of ann's events in its own log.
  auto bobs = Call(bob_, "GET", "/api/v1/account/audit?kind=share,publication");
  ASSERT_EQ(bobs->status, 200);
  EXPECT_TRUE(json::parse(bobs->body).at("items").as_array().empty()) << bobs->body;
  EXPECT_EQ(bobs->body.find("mnist"), std::string::npos);
}

// A .tar.gz of one file `name` holding `content`, made by tar(1) in `dir`; its bytes.
std::string TarGz(const std::string& dir, const std::string& name, const std::string& content) {
  fs::create_directories(dir + "/tree-" + name);
  std::ofstream(dir + "/tree-" + name + "/" + name, std::ios::binary) << content;
  std::string archive = dir + "/" + name + ".tar.gz";
  EXPECT_EQ(std::system(("tar -czf " + archive + " -C " + dir + "/tree-" + name + " .").c_str()), 0);
  return ReadFile(archive);
}

TEST_F(FilesTest, PublishingIsChargedToThePublisherAndCappedLikeJobPackages) {
  Start({"--storage-quota", "2MiB"});
  auto storage = [&] { return json::parse(Call(ann_, "GET", "/api/v1/storage")->body); };
  auto publish = [&](const std::string& name, const std::string& version, const std::string& path) {
    return *Call(ann_, "POST", "/api/v1/publications",
                 {{"kind", "dataset"}, {"name", name}, {"version", version}, {"path", path}});
  };
  // A small archive that unpacks to far more than it weighs is stopped by the archive rule, here
  // at the storage left (the expansion cap starts above this quota; files_test checks it).
  std::string bomb = TarGz(dir_.path(), "zeros", std::string(20 << 20, '\0'));
  ASSERT_EQ(Upload(ann_, "datasets/bomb.tar.gz", bomb).status, 200);
  auto refused = publish("bomb", "1", "datasets/bomb.tar.gz");
  ASSERT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(json::parse(refused.body).at("error").at("code").as_string(), "quota_exceeded");
  EXPECT_FALSE(fs::exists(Files() + "/public/datasets/ann-lab/bomb"));
  ASSERT_EQ(Call(ann_, "DELETE", "/api/v1/files/datasets/bomb.tar.gz")->status, 204);

  // The review's case: one archive published again and again. Every copy is the publisher's.
  std::mt19937 rng(7);
  std::string digits(700 << 10, '0');
  for (auto& c : digits) c = static_cast<char>('0' + rng() % 10);
  std::string archive = TarGz(dir_.path(), "digits.txt", digits);
  ASSERT_EQ(Upload(ann_, "datasets/d.tar.gz", archive).status, 200);
  ASSERT_EQ(publish("digits", "1", "datasets/d.tar.gz").status, 201);
  ASSERT_EQ(publish("digits", "2", "datasets/d.tar.gz").status, 201);
  auto third = publish("digits", "3", "datasets/d.tar.gz");
  ASSERT_EQ(third.status, 403) << third.body;
  EXPECT_EQ(json::parse(third.body).at("error").at("code").as_string(), "quota_exceeded");
  EXPECT_FALSE(fs::exists(Files() + "/public/datasets/ann-lab/digits/3"));
  auto used = storage();
  EXPECT_EQ(used.at("published_bytes").as_int64(), 2 * (700 << 10));
  EXPECT_EQ(used.at("files_bytes").as_int64(), static_cast<std::int64_t>(archive.size()));
  EXPECT_EQ(used.at("used_bytes").as_int64(), used.at("files_bytes").as_int64() + used.at("published_bytes").as_int64());
  EXPECT_LE(used.at("used_bytes").as_int64(), 2 << 20);
  EXPECT_EQ(Call(ann_, "POST", "/api/v1/uploads", {{"path", "datasets/more"}, {"size", 400 << 10}})->status, 403);
}

TEST_F(FilesTest, WhatAnotherAccountSharedCannotBePublishedButCanBeCopied) {
  Start();
  ASSERT_EQ(Upload(ann_, "datasets/mnist/train.csv", "x,y\n1,2\n").status, 200);
  ASSERT_EQ(Call(ann_, "POST", "/api/v1/shares", {{"path", "datasets/mnist"}, {"account", "bob-lab"}})->status, 201);
  auto reshared = Call(bob_, "POST", "/api/v1/publications",
                       {{"kind", "dataset"}, {"name", "mnist"}, {"version", "1"}, {"path", "shared/ann-lab/datasets/mnist"}});
  ASSERT_EQ(reshared->status, 403) << reshared->body;
  auto error = json::parse(reshared->body).at("error");
  EXPECT_EQ(error.at("code").as_string(), "permission_denied");
  EXPECT_EQ(error.at("details").at("reason").as_string(), "republish_forbidden");
  ASSERT_EQ(Call(ann_, "POST", "/api/v1/publications",
                 {{"kind", "dataset"}, {"name", "mnist"}, {"version", "1"}, {"path", "datasets/mnist"}})->status,
            201);
  auto republished = Call(bob_, "POST", "/api/v1/publications",
                          {{"kind", "dataset"}, {"name", "mine"}, {"version", "1"}, {"path", "public/datasets/ann-lab/mnist/1"}});
  EXPECT_EQ(republished->status, 403) << republished->body;
  EXPECT_TRUE(json::parse(Call(bob_, "GET", "/api/v1/publications")->body).at("publications").as_array().size() == 1);
  // Bob's own copy is his, and counts against his quota.
  ASSERT_EQ(Call(bob_, "POST", "/api/v1/copies", {{"from", "shared/ann-lab/datasets/mnist"}, {"to", "datasets/mnist"}})
                ->status,
            201);
  EXPECT_EQ(json::parse(Call(bob_, "GET", "/api/v1/storage")->body).at("used_bytes").as_int64(), 8);
}

TEST_F(FilesTest, LinksAJobPlantsAreNeitherCountedPublishedCopiedNorFollowed) {
  Start();
  ASSERT_EQ(Upload(ann_, "datasets/set/real.txt", "real").status, 200);
  std::string big = dir_.path() + "/outside.bin";
  std::ofstream(big, std::ios::binary) << std::string(3 << 20, 'b');
  fs::create_symlink(big, Files() + "/ann-lab/datasets/evil.bin");
  fs::create_symlink(big, Files() + "/ann-lab/datasets/set/evil.bin");
  fs::create_directory_symlink("/", Files() + "/ann-lab/datasets/set/root");
  EXPECT_EQ(json::parse(Call(ann_, "GET", "/api/v1/storage")->body).at("used_bytes").as_int64(), 4);
  EXPECT_EQ(Call(ann_, "GET", "/api/v1/download/datasets/evil.bin")->status, 404);
  EXPECT_EQ(Call(ann_, "GET", "/api/v1/download/datasets/set/root/etc/passwd")->status, 404);
  EXPECT_EQ(Call(ann_, "POST", "/api/v1/copies", {{"from", "datasets/evil.bin"}, {"to", "models/evil.bin"}})->status, 404);
  EXPECT_EQ(Call(ann_, "POST", "/api/v1/publications",
                 {{"kind", "dataset"}, {"name", "evil"}, {"version", "1"}, {"path", "datasets/evil.bin"}})->status,
            404);
  auto published = Call(ann_, "POST", "/api/v1/publications",
                        {{"kind", "dataset"}, {"name", "set"}, {"version", "1"}, {"path", "datasets/set"}});
  ASSERT_EQ(published->status, 201) << published->body;
  EXPECT_EQ(json::parse(published->body).at("bytes").as_int64(), 4);
  EXPECT_FALSE(fs::exists(fs::symlink_status(Files() + "/public/datasets/ann-lab/set/1/evil.bin")));
  ASSERT_EQ(Call(ann_, "POST", "/api/v1/copies", {{"from", "datasets/set"}, {"to", "models/set"}})->status, 201);
  EXPECT_FALSE(fs::exists(fs::symlink_status(Files() + "/ann-lab/models/set/root")));
  EXPECT_EQ(json::parse(Call(ann_, "GET", "/api/v1/storage")->body).at("used_bytes").as_int64(), 12);
}

TEST_F(FilesTest, UnusedJobPackagesCountAndExpire) {
  Start({"--upload-ttl", "1s"});
  std::string archive = TarGz(dir_.path(), "train.py", std::string(5000, '#'));
  auto uploaded = testing::Request(addr_, "POST", "/api/v1/jobs/packages", archive,
                                   "Authorization: Bearer " + ann_ + "\r\nContent-Type: application/gzip\r\n");
  ASSERT_EQ(uploaded->status, 201) << uploaded->body;
  auto usage = json::parse(Call(ann_, "GET", "/api/v1/storage")->body);
  EXPECT_EQ(usage.at("package_bytes").as_int64(), 5000);
  EXPECT_EQ(usage.at("used_bytes").as_int64(), 5000);
  EXPECT_EQ(json::parse(Call(bob_, "GET", "/api/v1/storage")->body).at("used_bytes").as_int64(), 0);
  // Unused for upload_ttl: the reconciler removes it.
  EXPECT_TRUE(testing::WaitFor(
      [&] { return json::parse(Call(ann_, "GET", "/api/v1/storage")->body).at("package_bytes").as_int64() == 0; },
      20s));
  std::string package(json::parse(uploaded->body).at("package").as_string());
  EXPECT_FALSE(fs::exists(dir_.path() + "/data/jobs/ann-lab/packages/" + package));
}

TEST_F(FilesTest, AJobReadsADatasetAndWritesAModel) {
  Start();
  ASSERT_EQ(Upload(ann_, "datasets/points/train.csv", "1\n2\n3\n4\n").status, 200);
  ASSERT_EQ(Upload(bob_, "datasets/extra/bonus.txt", "10\n").status, 200);
  ASSERT_EQ(Call(bob_, "POST", "/api/v1/shares", {{"path", "datasets/extra"}, {"account", "ann-lab"}})->status, 201);
  std::string entry =
      "set -e; total=0; for x in $(cat \"$PADDLE_CLOUD_DATA/datasets/points/train.csv\" "
      "\"$PADDLE_CLOUD_SHARED/bob-lab/datasets/extra/bonus.txt\"); do total=$((total + x)); done; "
      "mkdir -p \"$PADDLE_CLOUD_DATA/models/run\"; echo \"sum=$total\" > \"$PADDLE_CLOUD_DATA/models/run/model.txt\"; "
      "test -d \"$PADDLE_CLOUD_PUBLIC/datasets\"; "
      "if touch \"$PADDLE_CLOUD_SHARED/bob-lab/datasets/extra/x\" 2>/dev/null; then echo shared-writable; "
      "else echo shared-read-only; fi";
  std::string id = SubmitJob("reader", entry);
  ASSERT_FALSE(id.empty());
  std::string state;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        state = std::string(json::parse(Call(ann_, "GET", "/api/v1/jobs/" + id)->body).at("state").as_string());
        return state == "Succeeded" || state == "Failed";
      },
      60s));
  std::string log = json::parse(Call(ann_, "GET", "/api/v1/jobs/" + id + "/pods/reader-" + id + "-trainer-0/logs")->body)
                        .at("text")
                        .as_string()
                        .c_str();
  ASSERT_EQ(state, "Succeeded") << log;
  EXPECT_EQ(Call(ann_, "GET", "/api/v1/download/models/run/model.txt")->body, "sum=20\n");
  EXPECT_NE(log.find("shared-read-only"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(Files() + "/bob-lab/datasets/extra/x"));
}

// Files a job's pods wrote link to that job once it ended; links it planted are neither followed nor recorded.
TEST_F(FilesTest, FilesAJobWroteNameTheJob) {
  Start();
  fs::create_directories(Files() + "/bob-lab/datasets");
  std::ofstream(Files() + "/bob-lab/datasets/raw.txt") << "bob's";
  std::string entry = "set -e; mkdir -p \"$PADDLE_CLOUD_DATA/models/run\"; echo trained > \"$PADDLE_CLOUD_DATA/models/run/model.txt\"; "
                      "ln -s '" + Files() + "/bob-lab/datasets/raw.txt' \"$PADDLE_CLOUD_DATA/models/run/bob.txt\"; "
                      "ln -s '" + Files() + "/bob-lab/datasets' \"$PADDLE_CLOUD_DATA/models/run/bob\"; "
                      "ln -s / \"$PADDLE_CLOUD_DATA/models/run/root\"";
  std::string id = SubmitJob("writer", entry);
  ASSERT_FALSE(id.empty());
  json::value listing;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        auto reply = Call(ann_, "GET", "/api/v1/files/models/run");
        if (reply->status != 200) return false;
        listing = json::parse(reply->body);
        const auto& entries = listing.at("entries").as_array();
        return entries.size() == 1 && entries[0].at("written_by_job").is_string();
      },
      60s))
      << json::serialize(listing);
  const auto& model = listing.at("entries").as_array()[0];
  EXPECT_EQ(model.at("name").as_string(), "model.txt");
  EXPECT_EQ(model.at("written_by_job").as_string(), id);
  EXPECT_TRUE(model.at("uploaded_by").is_null());
  EXPECT_EQ(json::parse(Call(ann_, "GET", "/api/v1/files/models/run/model.txt")->body).at("written_by_job").as_string(), id);
  EXPECT_EQ(json::parse(Call(ann_, "GET", "/api/v1/jobs/" + id)->body).at("state").as_string(), "Succeeded");
  auto bobs = json::parse(Call(bob_, "GET", "/api/v1/files/datasets/raw.txt")->body);
  EXPECT_TRUE(bobs.at("written_by_job").is_null()) << json::serialize(bobs);
  EXPECT_EQ(Call(ann_, "GET", "/api/v1/files/models/run/bob/raw.txt")->status, 404);
  EXPECT_TRUE(json::parse(Call(ann_, "GET", "/api/v1/files/datasets")->body).at("written_by_job").is_null());
}

}  // namespace
}  // namespace paddlecloud
