// Generated list of common passwords (case-insensitive match); see secrets.cpp.
#pragma once

namespace paddlecloud::accounts {

inline constexpr const char* kCommonPasswords[] = {
    "password", "password1", "password12", "password123", "password1234", "passw0rd", "p@ssw0rd", "p@ssword",
    "123456", "1234567", "12345678", "123456789", "1234567890", "12345678910", "0123456789", "9876543210",
    "1q2w3e4r", "1q2w3e4r5t", "1q2w3e4r5t6y", "1qaz2wsx", "1qaz2wsx3edc", "qwerty", "qwerty123", "qwertyuiop",
    "qwerty1234", "qwertyuiop123", "asdfghjkl", "asdfghjkl123", "zxcvbnm", "zxcvbnm123", "iloveyou",
    "iloveyou123", "iloveyou1", "princess", "princess123", "sunshine", "sunshine123", "football",
    "football123", "baseball", "baseball123", "basketball", "welcome", "welcome123", "welcome1234",
    "welcometo", "letmein", "letmein123", "letmeinnow", "monkey", "monkey123", "dragon", "dragon123",
    "master", "master123", "shadow", "shadow123", "superman", "superman123", "batman", "batman123",
    "trustno1", "trustnoone", "michael", "michael123", "jennifer", "jordan23", "hunter2", "hunter123",
    "freedom", "freedom123", "whatever", "whatever123", "qazwsx", "qazwsxedc", "qazwsxedcrfv", "abc123",
    "abcd1234", "abcdef123", "abcdefghij", "abcdefghijk", "abc123456", "aaaaaaaaaa", "1111111111",
    "0000000000", "2222222222", "5555555555", "7777777777", "8888888888", "9999999999", "1212121212",
    "1231231231", "1234512345", "1122334455", "11223344556", "changeme", "changeme123", "administrator",
    "admin123", "admin12345", "adminadmin", "rootroot", "root123456", "default123", "computer", "computer123",
    "internet", "internet123", "starwars", "starwars123", "pokemon123", "charlie123", "chocolate",
    "chocolate1", "butterfly", "butterfly1", "liverpool", "liverpool1", "arsenal123", "chelsea123",
    "manchester", "soccer1234", "hockey1234", "summer2023", "summer2024", "summer2025", "summer2026",
    "winter2024", "winter2025", "winter2026", "spring2025", "spring2026", "autumn2025", "autumn2026",
    "password2023", "password2024", "password2025", "password2026", "paddlecloud", "paddlepaddle",
    "paddlecloud1", "paddlecloud123", "deeplearning", "machinelearning", "tensorflow", "pytorch123",
    "qwerty12345", "qweasdzxc", "qweasdzxc123", "q1w2e3r4t5", "a1b2c3d4e5", "zaq12wsx", "zaq1xsw2",
    "1234qwer", "1234qwerasdf", "passwordpassword", "mypassword", "mypassword1", "secret123",
    "secretpassword", "topsecret123", "lovely123", "loveyou123", "mustang123", "access123", "access1234",
    "jessica123", "ashley123", "daniel123", "thomas123", "robert123", "matthew123", "andrew123", "joshua123",
};

}  // namespace paddlecloud::accounts
