// Tests of the Mailer port's adapters: the SMTP adapter against a real SMTP server (Debian's
// aiosmtpd, scripts/smtp_test_server.py, started per test), the outbox adapter on a temp dir, and
// the message rendering. Received messages are decoded by Python's `email` package (an independent
// RFC 5322/2047/2045 parser), not by our own code.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "mail/mailer.h"
#include "mail/message_format.h"
#include "testing/server_process.h"
#include "testing/smtp_server.h"

namespace paddlecloud::mail {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::Not;
using paddlecloud::testing::TempDir;
using paddlecloud::testing::WaitFor;
using paddlecloud::testing::ReadFile;
using paddlecloud::testing::SmtpTestServer;

constexpr const char* kPython = "/usr/bin/python3";

// Runs argv[0] with stdout captured; returns {exit code, stdout}. stderr goes to the test's stderr.
std::pair<int, std::string> RunCapture(std::vector<std::string> args) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return {-1, ""};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipefd[1], 1);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

bool AiosmtpdAvailable() {
  static const bool available = RunCapture({kPython, "-c", "import aiosmtpd"}).first == 0;
  return available;
}

#define SKIP_WITHOUT_AIOSMTPD()                                                                    \
  if (!AiosmtpdAvailable()) GTEST_SKIP() << kPython << " cannot import aiosmtpd "                 \
                                            "(apt-get install python3-aiosmtpd): SMTP tests skipped"

// A message decoded by Python's email package (policy.default).
struct Parsed {
  json::object fields;
  std::string Str(const char* key) const {
    auto* v = fields.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : "";
  }
  bool IsNull(const char* key) const {
    auto* v = fields.if_contains(key);
    return !v || v->is_null();
  }
};

constexpr const char* kParseScript = R"py(
import sys, json, email
from email import policy
with open(sys.argv[1], "rb") as f:
    m = email.message_from_binary_file(f, policy=policy.default)
def body(kind):
    part = m.get_body(preferencelist=(kind,))
    return None if part is None else part.get_content().replace("\r\n", "\n")
def mailbox(name):
    a = m[name].addresses[0]
    return a.display_name, a.addr_spec
to_name, to_addr = mailbox("to")
from_name, from_addr = mailbox("from")
print(json.dumps({
    "subject": str(m["subject"]), "to_name": to_name, "to_addr": to_addr,
    "from_name": from_name, "from_addr": from_addr,
    "date": m["date"].datetime.isoformat(), "message_id": str(m["message-id"]),
    "mime_version": str(m["mime-version"]), "content_type": m.get_content_type(),
    "text": body("plain"), "html": body("html"),
    "defects": ",".join(type(d).__name__ for p in m.walk() for d in p.defects),
}))
)py";

Parsed ParseEml(const std::string& path) {
  auto [code, out] = RunCapture({kPython, "-c", kParseScript, path});
  EXPECT_EQ(code, 0) << "python could not parse " << path << ":\n" << ReadFile(path);
  Parsed parsed;
  if (code == 0) parsed.fields = json::parse(out).as_object();
  return parsed;
}

// Checks the raw message text: CRLF line endings only, 7-bit, header/body lines within limits.
void ExpectWellFormedRaw(const std::string& raw) {
  EXPECT_EQ(raw.find("\r\n\r\n") != std::string::npos, true) << "no header/body separator";
  std::size_t start = 0;
  while (start < raw.size()) {
    auto end = raw.find("\r\n", start);
    ASSERT_NE(end, std::string::npos) << "last line not CRLF-terminated";
    std::string_view line(raw.data() + start, end - start);
    EXPECT_EQ(line.find('\n'), std::string_view::npos) << "bare LF in: " << line;
    EXPECT_EQ(line.find('\r'), std::string_view::npos) << "bare CR in: " << line;
    EXPECT_LE(line.size(), 84u) << line;  // 78 recommended; "Subject: " + one 75-char encoded-word
    for (unsigned char c : line) EXPECT_LT(c, 0x80) << "8-bit byte in: " << line;
    start = end + 2;
  }
}

json::object Envelope(const SmtpTestServer& server, int n) {
  return json::parse(ReadFile(server.EnvelopeFile(n))).as_object();
}

MailerOptions SmtpOptions(int port) {
  MailerOptions o;
  o.smtp_host = "127.0.0.1";
  o.smtp_port = port;
  o.smtp_security = "none";
  o.from = "PaddleCloud <noreply@paddle.test>";
  o.timeout_seconds = 10;
  return o;
}

std::unique_ptr<Mailer> Make(const MailerOptions& options) {
  auto mailer = MakeMailer(options);
  EXPECT_TRUE(mailer.has_value()) << mailer.error().ToString();
  return mailer ? std::move(*mailer) : nullptr;
}

// A TCP port on 127.0.0.1 that refuses connections: bound (so nobody else takes it) but not listening.
class RefusingPort {
 public:
  RefusingPort() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~RefusingPort() { ::close(fd_); }
  int port() const { return port_; }
  // Accepts connections into the backlog but never says a word (no SMTP greeting).
  void ListenSilently() { ::listen(fd_, 4); }

 private:
  int fd_;
  int port_ = 0;
};

// Routes spdlog's default logger into a string for the scope of the object.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    auto logger = std::make_shared<spdlog::logger>("capture", sink);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::string str() const { return out_.str(); }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream out_;
};

const std::string kSubject = "Vérifiez votre adresse — 验证您的邮箱 ✓";
const std::string kLink = "https://cloud.example.com/verify?token=ab%3Dcd&next=/jobs";
const std::string kText =
    "Bonjour Zoë,\n"
    "\n"
    "Please confirm your address: " + kLink + ".\n"
    ".a line starting with a dot\n"
    ".\n"
    "equals = sign, trailing space \n" +
    std::string(120, 'x') + " a long line that must be soft-wrapped " + std::string(50, 'y') + "\n";
const std::string kHtml = "<p>Bonjour Zoë, <a href=\"" + kLink + "\">confirm</a></p>\n";

// ---------------------------------------------------------------------------------------------
// Message rendering

TEST(MessageFormat, QuotedPrintableKeepsLinesShortAndEscapes) {
  std::string qp = EncodeQuotedPrintable("a=b é\ttrail \n" + std::string(200, 'z') + "\r\nend");
  EXPECT_THAT(qp, HasSubstr("a=3Db =C3=A9\ttrail=20\r\n"));
  EXPECT_THAT(qp, HasSubstr("\r\nend"));
  std::istringstream lines(qp);
  for (std::string line; std::getline(lines, line);) EXPECT_LE(line.size(), 77u) << line;  // 76 + '\r'
}

TEST(MessageFormat, SubjectHeader) {
  EXPECT_EQ(UnstructuredHeader("Subject", "Welcome to PaddleCloud"), "Subject: Welcome to PaddleCloud\r\n");
  std::string encoded = UnstructuredHeader("Subject", kSubject);
  EXPECT_TRUE(encoded.starts_with("Subject: =?UTF-8?B?")) << encoded;
  // Each encoded-word is at most 75 characters.
  std::istringstream words(encoded.substr(9));
  for (std::string word; words >> word;) EXPECT_LE(word.size(), 75u) << word;
  // Something that looks like an encoded-word is itself encoded, so it reads back literally.
  EXPECT_THAT(UnstructuredHeader("Subject", "=?UTF-8?B?eA==?="), HasSubstr("=?UTF-8?B?PT9VVEYtOD9CP2VBPT0/PQ==?="));
  // Long ASCII subjects fold before whitespace.
  std::string folded = UnstructuredHeader("Subject", std::string(60, 'a') + " " + std::string(30, 'b'));
  EXPECT_EQ(folded, "Subject: " + std::string(60, 'a') + "\r\n " + std::string(30, 'b') + "\r\n");
}

TEST(MessageFormat, FindLinks) {
  EXPECT_THAT(FindLinks("Open " + kLink + ". Or (http://x.test/a) or HTTPS://Y.test/b, not xhttp://no.\n"
                        "请点击https://z.test/c。"),
              ::testing::ElementsAre(kLink, "http://x.test/a", "HTTPS://Y.test/b", "https://z.test/c"));
  EXPECT_TRUE(FindLinks("no links, https:// alone").empty());
}

TEST(MessageFormat, ParseMailbox) {
  auto plain = ParseMailbox("user@example.com", "to");
  ASSERT_TRUE(plain) << plain.error().ToString();
  EXPECT_EQ(plain->address, "user@example.com");
  EXPECT_EQ(plain->display_name, "");
  auto named = ParseMailbox(" \"Doe, Jane\" <jane.doe+tag@sub.example.com> ", "to");
  ASSERT_TRUE(named) << named.error().ToString();
  EXPECT_EQ(named->display_name, "Doe, Jane");
  EXPECT_EQ(named->address, "jane.doe+tag@sub.example.com");
  EXPECT_EQ(FormatMailbox(*named), "\"Doe, Jane\" <jane.doe+tag@sub.example.com>");
  EXPECT_EQ(FormatMailbox({"Zoë", "z@x.test"}), "=?UTF-8?B?Wm/Dqw==?= <z@x.test>");
  for (const char* bad : {"", "no-at-sign", "a@", "@b", "a b@c.d", "a@b..c", "<a@b", "x@y\r\nBcc: e@f", "ü@x.test",
                          "a@b>, c@d"}) {
    auto r = ParseMailbox(bad, "to");
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << bad;
      EXPECT_EQ(r.error().field(), "to") << bad;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// MakeMailer

TEST(MakeMailer, ValidatesOptions) {
  auto expect_invalid = [](MailerOptions o, const std::string& field) {
    auto r = MakeMailer(o);
    ASSERT_FALSE(r) << field;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << r.error().ToString();
    EXPECT_EQ(r.error().field(), field) << r.error().ToString();
    EXPECT_THAT(r.error().message(), HasSubstr(field));
  };
  MailerOptions smtp = SmtpOptions(2525);
  MailerOptions o = smtp;
  o.smtp_security = "ssl";
  expect_invalid(o, "smtp_security");
  o = smtp;
  o.smtp_port = 0;
  expect_invalid(o, "smtp_port");
  o.smtp_port = 65536;
  expect_invalid(o, "smtp_port");
  o = smtp;
  o.smtp_host = "mail.example.com/evil";
  expect_invalid(o, "smtp_host");
  o = smtp;
  o.timeout_seconds = 0;
  expect_invalid(o, "timeout_seconds");
  o = smtp;
  o.smtp_password = "secret";
  expect_invalid(o, "smtp_password");
  o = smtp;
  o.from = "PaddleCloud <noreply@x.test>\r\nBcc: victim@x.test";
  expect_invalid(o, "from");
  o = smtp;
  o.from = "not an address";
  expect_invalid(o, "from");
  expect_invalid(MailerOptions{}, "outbox_dir");  // neither SMTP nor an outbox

  for (const char* security : {"none", "starttls", "tls"}) {
    o = smtp;
    o.smtp_security = security;
    EXPECT_TRUE(MakeMailer(o)) << security;
  }
  MailerOptions outbox;
  outbox.outbox_dir = "/nonexistent/created-on-first-send";
  EXPECT_TRUE(MakeMailer(outbox));  // default From parses
}

// ---------------------------------------------------------------------------------------------
// Outbox adapter

std::vector<fs::path> DirEntries(const std::string& dir) {
  std::vector<fs::path> entries;
  if (!fs::exists(dir)) return entries;
  for (auto& e : fs::directory_iterator(dir)) entries.push_back(e.path());
  std::sort(entries.begin(), entries.end());
  return entries;
}

TEST(OutboxMailer, WritesPrivateParsableMessageAndLogsLinks) {
  TempDir tmp;
  MailerOptions options;
  options.outbox_dir = tmp.path() + "/data/outbox";  // created on first send
  auto mailer = Make(options);
  ASSERT_TRUE(mailer);
  LogCapture log;
  Status sent = mailer->Send({"Zoë Newcomer <zoe@example.com>", kSubject, kText, ""});
  ASSERT_TRUE(sent.ok()) << sent.ToString();

  auto entries = DirEntries(options.outbox_dir);
  ASSERT_EQ(entries.size(), 1u);  // no temp file left behind
  const fs::path& eml = entries[0];
  EXPECT_THAT(eml.filename().string(), ::testing::MatchesRegex("[0-9]{8}T[0-9]{6}\\.[0-9]{6}Z-[0-9a-f]{16}\\.eml"));
  struct stat st{};
  ASSERT_EQ(::stat(eml.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(options.outbox_dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  std::string raw = ReadFile(eml);
  ExpectWellFormedRaw(raw);
  Parsed p = ParseEml(eml);
  EXPECT_EQ(p.Str("defects"), "");
  EXPECT_EQ(p.Str("subject"), kSubject);
  EXPECT_EQ(p.Str("to_name"), "Zoë Newcomer");
  EXPECT_EQ(p.Str("to_addr"), "zoe@example.com");
  EXPECT_EQ(p.Str("from_name"), "PaddleCloud");
  EXPECT_EQ(p.Str("from_addr"), "noreply@localhost");
  EXPECT_EQ(p.Str("content_type"), "text/plain");
  EXPECT_EQ(p.Str("text"), kText);
  EXPECT_TRUE(p.IsNull("html"));

  std::string logged = log.str();
  EXPECT_THAT(logged, HasSubstr("mail to zoe@example.com \"" + kSubject + "\" written to " + eml.string()));
  EXPECT_THAT(logged, HasSubstr("link: " + kLink + "\n"));
  EXPECT_THAT(logged, Not(HasSubstr("Bonjour")));  // links only, not the body
}

TEST(OutboxMailer, RejectsHeaderInjectionWithoutWriting) {
  TempDir tmp;
  MailerOptions options;
  options.outbox_dir = tmp.path() + "/outbox";
  auto mailer = Make(options);
  ASSERT_TRUE(mailer);
  Status to = mailer->Send({"a@example.com\r\nBcc: victim@example.com", "hi", "body", ""});
  EXPECT_EQ(to.code(), Code::kInvalidArgument);
  EXPECT_EQ(to.field(), "to");
  Status subject = mailer->Send({"a@example.com", "hi\nBcc: victim@example.com", "body", ""});
  EXPECT_EQ(subject.code(), Code::kInvalidArgument);
  EXPECT_EQ(subject.field(), "subject");
  Status lone_cr = mailer->Send({"a@example.com", "hi\rthere", "body", ""});
  EXPECT_EQ(lone_cr.field(), "subject");
  Status utf8 = mailer->Send({"a@example.com", "hi", "bad \xC3\x28 byte", ""});
  EXPECT_EQ(utf8.field(), "text_body");
  EXPECT_TRUE(DirEntries(options.outbox_dir).empty());
}

TEST(OutboxMailer, ConcurrentSendsEachGetTheirFile) {
  TempDir tmp;
  MailerOptions options;
  options.outbox_dir = tmp.path() + "/outbox";
  auto mailer = Make(options);
  ASSERT_TRUE(mailer);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        if (!mailer->Send({"u" + std::to_string(t) + "@example.com", "n" + std::to_string(i), "b", ""}).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(DirEntries(options.outbox_dir).size(), 20u);
}

// ---------------------------------------------------------------------------------------------
// SMTP adapter against aiosmtpd

TEST(SmtpMailer, DeliversWellFormedMultipartMessage) {
  SKIP_WITHOUT_AIOSMTPD();
  TempDir tmp;
  SmtpTestServer server(tmp.path() + "/mail");
  ASSERT_TRUE(server.WaitReady()) << server.Log();
  auto mailer = Make(SmtpOptions(server.port()));
  ASSERT_TRUE(mailer);

  Status sent = mailer->Send({"Zoë Newcomer <zoe@example.com>", kSubject, kText, kHtml});
  ASSERT_TRUE(sent.ok()) << sent.ToString() << "\n" << server.Log();
  ASSERT_EQ(server.MessageCount(), 1);

  json::object envelope = Envelope(server, 1);
  EXPECT_EQ(envelope.at("mail_from").as_string(), "noreply@paddle.test");
  ASSERT_EQ(envelope.at("rcpt_tos").as_array().size(), 1u);
  EXPECT_EQ(envelope.at("rcpt_tos").as_array()[0].as_string(), "zoe@example.com");
  EXPECT_TRUE(envelope.at("auth_login").is_null());

  std::string raw = ReadFile(server.Eml(1));
  ExpectWellFormedRaw(raw);
  EXPECT_TRUE(raw.starts_with("Date: ")) << raw;
  EXPECT_THAT(raw, HasSubstr("\r\nMIME-Version: 1.0\r\n"));
  EXPECT_THAT(raw, HasSubstr("\r\nSubject: =?UTF-8?B?"));
  EXPECT_THAT(raw, ::testing::ContainsRegex("\r\nMessage-ID: <[0-9a-f]{32}@paddle\\.test>\r\n"));
  EXPECT_THAT(raw, HasSubstr("Content-Transfer-Encoding: quoted-printable"));

  Parsed p = ParseEml(server.Eml(1));
  EXPECT_EQ(p.Str("defects"), "");
  EXPECT_EQ(p.Str("subject"), kSubject);
  EXPECT_EQ(p.Str("to_name"), "Zoë Newcomer");
  EXPECT_EQ(p.Str("to_addr"), "zoe@example.com");
  EXPECT_EQ(p.Str("from_name"), "PaddleCloud");
  EXPECT_EQ(p.Str("from_addr"), "noreply@paddle.test");
  EXPECT_EQ(p.Str("mime_version"), "1.0");
  EXPECT_THAT(p.Str("date"), ::testing::EndsWith("+00:00"));
  EXPECT_EQ(p.Str("content_type"), "multipart/alternative");
  EXPECT_EQ(p.Str("text"), kText);  // dot lines survived dot-stuffing, link intact
  EXPECT_EQ(p.Str("html"), kHtml);
}

TEST(SmtpMailer, PlainAsciiTextOnlyMessage) {
  SKIP_WITHOUT_AIOSMTPD();
  TempDir tmp;
  SmtpTestServer server(tmp.path() + "/mail");
  ASSERT_TRUE(server.WaitReady()) << server.Log();
  auto mailer = Make(SmtpOptions(server.port()));
  ASSERT_TRUE(mailer);
  ASSERT_TRUE(mailer->Send({"bob@example.com", "Registration succeeded", "Welcome aboard.", ""}).ok());
  std::string raw = ReadFile(server.Eml(1));
  EXPECT_THAT(raw, HasSubstr("\r\nSubject: Registration succeeded\r\n"));
  EXPECT_THAT(raw, HasSubstr("\r\nTo: bob@example.com\r\n"));
  EXPECT_THAT(raw, HasSubstr("Content-Type: text/plain; charset=UTF-8\r\n"));
  Parsed p = ParseEml(server.Eml(1));
  EXPECT_EQ(p.Str("text"), "Welcome aboard.\n");
  EXPECT_EQ(p.Str("content_type"), "text/plain");
}

TEST(SmtpMailer, LogsInWithUserAndPassword) {
  SKIP_WITHOUT_AIOSMTPD();
  TempDir tmp;
  SmtpTestServer server(tmp.path() + "/mail", {"--user", "mailer", "--password", "s3cret-pw"});
  ASSERT_TRUE(server.WaitReady()) << server.Log();
  MailerOptions options = SmtpOptions(server.port());
  options.smtp_user = "mailer";
  options.smtp_password = "s3cret-pw";
  auto mailer = Make(options);
  ASSERT_TRUE(mailer);
  LogCapture log;
  Status sent = mailer->Send({"carol@example.com", "Reset your password", "Go to " + kLink + "\n", ""});
  ASSERT_TRUE(sent.ok()) << sent.ToString() << "\n" << server.Log();
  ASSERT_EQ(server.MessageCount(), 1);
  EXPECT_EQ(Envelope(server, 1).at("auth_login").as_string(), "mailer");
  EXPECT_THAT(log.str(), Not(HasSubstr("s3cret-pw")));
  EXPECT_THAT(log.str(), Not(HasSubstr(kLink)));  // SMTP never logs bodies
}

TEST(SmtpMailer, LoginFailuresAreUnavailableWithoutThePassword) {
  SKIP_WITHOUT_AIOSMTPD();
  TempDir tmp;
  SmtpTestServer server(tmp.path() + "/mail", {"--user", "mailer", "--password", "s3cret-pw"});
  ASSERT_TRUE(server.WaitReady()) << server.Log();

  MailerOptions wrong = SmtpOptions(server.port());
  wrong.smtp_user = "mailer";
  wrong.smtp_password = "Wr0ng-Passw0rd";
  auto mailer = Make(wrong);
  ASSERT_TRUE(mailer);
  Status denied = mailer->Send({"dave@example.com", "hi", "body", ""});
  EXPECT_EQ(denied.code(), Code::kUnavailable) << denied.ToString();
  EXPECT_THAT(denied.message(), HasSubstr("sending mail to dave@example.com failed: "));
  EXPECT_THAT(denied.message(), Not(HasSubstr("Wr0ng-Passw0rd")));

  auto anonymous = Make(SmtpOptions(server.port()));  // server requires AUTH
  ASSERT_TRUE(anonymous);
  Status refused = anonymous->Send({"dave@example.com", "hi", "body", ""});
  EXPECT_EQ(refused.code(), Code::kUnavailable) << refused.ToString();
  EXPECT_THAT(refused.message(), HasSubstr("530"));
  EXPECT_EQ(server.MessageCount(), 0);
}

TEST(SmtpMailer, StarttlsIsRequiredNeverDowngraded) {
  SKIP_WITHOUT_AIOSMTPD();
  TempDir tmp;
  SmtpTestServer server(tmp.path() + "/mail");  // offers no STARTTLS
  ASSERT_TRUE(server.WaitReady()) << server.Log();
  MailerOptions options = SmtpOptions(server.port());
  options.smtp_security = "starttls";
  options.smtp_user = "mailer";
  options.smtp_password = "s3cret-pw";
  auto mailer = Make(options);
  ASSERT_TRUE(mailer);
  Status sent = mailer->Send({"erin@example.com", "hi", "body", ""});
  EXPECT_EQ(sent.code(), Code::kUnavailable) << sent.ToString();
  EXPECT_THAT(sent.message(), Not(HasSubstr("s3cret-pw")));
  EXPECT_EQ(server.MessageCount(), 0);
}

TEST(SmtpMailer, ConcurrentSends) {
  SKIP_WITHOUT_AIOSMTPD();
  TempDir tmp;
  SmtpTestServer server(tmp.path() + "/mail");
  ASSERT_TRUE(server.WaitReady()) << server.Log();
  auto mailer = Make(SmtpOptions(server.port()));
  ASSERT_TRUE(mailer);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2; ++i) {
        if (!mailer->Send({"u" + std::to_string(t) + "@example.com", "invitation", "join us", ""}).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(server.MessageCount(), 8);
}

// ---------------------------------------------------------------------------------------------
// SMTP adapter failures that need no server

TEST(SmtpMailer, ConnectionRefusedIsUnavailableWithClearMessage) {
  RefusingPort port;
  MailerOptions options = SmtpOptions(port.port());
  options.smtp_user = "mailer";
  options.smtp_password = "s3cret-pw";
  auto mailer = Make(options);
  ASSERT_TRUE(mailer);
  Status sent = mailer->Send({"frank@example.com", "hi", "body", ""});
  EXPECT_EQ(sent.code(), Code::kUnavailable);
  EXPECT_THAT(sent.message(), HasSubstr("sending mail to frank@example.com failed: "));
  EXPECT_THAT(sent.message(), HasSubstr("127.0.0.1:" + std::to_string(port.port())));
  EXPECT_THAT(sent.message(), ::testing::ContainsRegex("[Cc]onnect"));
  EXPECT_THAT(sent.message(), Not(HasSubstr("s3cret-pw")));
}

TEST(SmtpMailer, SilentServerTimesOut) {
  RefusingPort port;
  port.ListenSilently();
  MailerOptions options = SmtpOptions(port.port());
  options.timeout_seconds = 1;
  auto mailer = Make(options);
  ASSERT_TRUE(mailer);
  auto start = std::chrono::steady_clock::now();
  Status sent = mailer->Send({"grace@example.com", "hi", "body", ""});
  EXPECT_EQ(sent.code(), Code::kUnavailable) << sent.ToString();
  EXPECT_THAT(sent.message(), HasSubstr("sending mail to grace@example.com failed: "));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(SmtpMailer, RejectsHeaderInjectionBeforeConnecting) {
  RefusingPort port;  // InvalidArgument, not Unavailable: nothing is attempted
  auto mailer = Make(SmtpOptions(port.port()));
  ASSERT_TRUE(mailer);
  Status to = mailer->Send({"a@example.com\r\nBcc: victim@example.com", "hi", "body", ""});
  EXPECT_EQ(to.code(), Code::kInvalidArgument);
  EXPECT_EQ(to.field(), "to");
  Status subject = mailer->Send({"a@example.com", "hi\r\nBcc: victim@example.com", "body", ""});
  EXPECT_EQ(subject.code(), Code::kInvalidArgument);
  EXPECT_EQ(subject.field(), "subject");
}

}  // namespace
}  // namespace paddlecloud::mail
