#include "accounts/account_service.h"

namespace paddlecloud::accounts {

AccountService::AccountService(db::Database& database, mail::Mailer& mailer, AccountsOptions options)
    : context_(database, mailer, std::move(options)),
      registration_(context_),
      sign_in_(context_),
      passwords_(context_),
      members_(context_),
      invitations_(context_),
      tokens_(context_, sign_in_),
      certificates_(context_),
      audit_(context_),
      directory_(context_) {}

}  // namespace paddlecloud::accounts
