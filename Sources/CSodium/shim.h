// libsodium (https://doc.libsodium.org), from Debian's libsodium-dev. Coffer uses ChaCha20-Poly1305 in its IETF form
// (crypto_aead_chacha20poly1305_ietf_*, for vault values and age, see CofferVault/Age/AgeCrypto.swift), the sealed box
// (crypto_box_seal / crypto_box_seal_open, https://doc.libsodium.org/public-key_cryptography/sealed_boxes), key pair
// generation for the test fakes, randombytes and sodium_init.
#include <sodium.h>
