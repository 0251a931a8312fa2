// libsodium (https://doc.libsodium.org), from Debian's libsodium-dev. Coffer uses only the sealed box
// (crypto_box_seal / crypto_box_seal_open, https://doc.libsodium.org/public-key_cryptography/sealed_boxes),
// key pair generation for the test fakes, and sodium_init.
#include <sodium.h>
