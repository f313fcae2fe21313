#include "common/status.h"

#include <gtest/gtest.h>

namespace paddlecloud {
namespace {

TEST(StatusTest, DefaultIsOkAndCarriesNothing) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), Code::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.ToString(), "ok");
}

TEST(StatusTest, InvalidArgumentNamesField) {
  Status s = Status::InvalidArgument("must be a number", "num_trainer");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(HttpStatusOf(s.code()), 400);
  EXPECT_EQ(CodeName(s.code()), "invalid_argument");
  EXPECT_EQ(s.field(), "num_trainer");
  EXPECT_EQ(s.ToString(), "invalid_argument: must be a number (field num_trainer)");
}

TEST(StatusTest, DetailsAreCopyOnWrite) {
  Status a = Status::Conflict("offset mismatch");
  Status b = a;
  b.WithDetail("offset", "42");
  EXPECT_TRUE(a.details().empty());
  EXPECT_EQ(b.details().at("offset"), "42");
}

TEST(StatusTest, EveryCodeMapsToAnErrorStatus) {
  for (Code c : {Code::kInvalidArgument, Code::kUnauthenticated, Code::kPermissionDenied, Code::kNotFound,
                 Code::kMethodNotAllowed, Code::kConflict, Code::kPayloadTooLarge, Code::kUnsupportedMedia,
                 Code::kRangeNotSatisfiable, Code::kResourceExhausted, Code::kQuotaExceeded, Code::kInsufficientStorage,
                 Code::kUnavailable,
                 Code::kInternal}) {
    EXPECT_GE(HttpStatusOf(c), 400) << CodeName(c);
    EXPECT_NE(CodeName(c), "ok");
  }
}

TEST(ResultTest, CarriesValueOrStatus) {
  Result<int> good = 7;
  Result<int> bad = Err(Status::NotFound("nope"));
  ASSERT_TRUE(good.has_value());
  EXPECT_EQ(*good, 7);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace paddlecloud
