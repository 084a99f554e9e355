//! The only randomness source: the platform CSPRNG through `getrandom`
//! (WebCrypto `getRandomValues` in wasm, in Node, workerd and browsers alike).
//! DKLs23 draws from getrandom itself; FROST takes an explicit rand_core 0.6 RNG,
//! so it gets this adapter.

pub struct PlatformRng;

impl rand_core::RngCore for PlatformRng {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        // Without a CSPRNG we must not produce key material at all: stop here.
        getrandom::fill(dest).expect("platform CSPRNG unavailable");
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        getrandom::fill(dest).map_err(|e| rand_core::Error::from(core::num::NonZeroU32::new(e.raw_os_error().unwrap_or(1) as u32).unwrap_or(core::num::NonZeroU32::MIN)))
    }
}

impl rand_core::CryptoRng for PlatformRng {}
