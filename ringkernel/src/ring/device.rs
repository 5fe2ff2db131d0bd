//! Rings in device memory: the links between two kernels on one device (a pipeline's stages).
//!
//! Both ends of such a ring are kernels, so the host never reads or writes its slots. It only
//! lays the ring out — device memory comes zero-filled (every slot empty, `head` = `tail` =
//! 0), and the header's configuration line is copied in before any kernel has the address —
//! and counts what waits in it by copying `head` and `tail` out ([`RingGauge`]). The kernels
//! speak the ABI's protocol on it exactly as on a ring in mapped memory; on a GPU the traffic
//! then stays in device memory instead of crossing the bus to host memory and back.

use std::sync::Arc;

use ringkernel_codegen::abi::{RingGeometry, offsets};

use super::{RingError, RingGauge, check_type_id, configuration_line};
use crate::device::Device;

/// A ring in the memory of one device, freed when the last of its holders drops it (each
/// holder is a kernel's end, kept until that kernel stopped).
pub(crate) struct DeviceRing {
    device: Arc<dyn Device>,
    address: u64,
}

impl DeviceRing {
    /// A ring of `capacity` slots for messages of `payload_size` bytes of type `type_id`, in
    /// `device`'s memory; the same geometry and header as [`super::Ring::create`]'s.
    pub fn create(
        device: &Arc<dyn Device>,
        capacity: u32,
        payload_size: u32,
        type_id: u64,
    ) -> Result<Arc<DeviceRing>, RingError> {
        check_type_id(type_id)?;
        let geometry = RingGeometry::new(capacity, payload_size)?;
        let total = geometry.total_bytes();
        let len = usize::try_from(total).map_err(|_| RingError::OutOfMemory(total))?;
        let address = device.alloc(len).map_err(|e| RingError::Device(e.to_string()))?;
        let ring = DeviceRing { device: device.clone(), address };
        // Dropping `ring` on failure frees the memory.
        let config = configuration_line(&geometry, type_id);
        device
            .write(address + u64::from(offsets::Q_CAPACITY), &config)
            .map_err(|e| RingError::Device(e.to_string()))?;
        Ok(Arc::new(ring))
    }

    /// Where the device sees the ring.
    pub fn device_address(&self) -> u64 {
        self.address
    }

    /// A gauge of this ring's length (read through the device).
    pub fn gauge(self: &Arc<Self>) -> RingGauge {
        RingGauge::device(self.clone())
    }

    /// Messages written and not yet freed: `tail - head`, copied out of device memory.
    pub fn len(&self) -> Result<u64, RingError> {
        let word = |offset: u32| {
            let mut bytes = [0u8; 8];
            self.device
                .read(self.address + u64::from(offset), &mut bytes)
                .map(|()| u64::from_le_bytes(bytes))
                .map_err(|e| RingError::Device(e.to_string()))
        };
        // `head` first: read in this order the difference never counts a freed slot.
        let head = word(offsets::Q_HEAD)?;
        Ok(word(offsets::Q_TAIL)?.saturating_sub(head))
    }
}

impl Drop for DeviceRing {
    fn drop(&mut self) {
        if let Err(e) = self.device.free(self.address) {
            tracing::warn!(target: "ringkernel::ring", "a device ring was not freed: {e}");
        }
    }
}

#[cfg(all(test, feature = "emulator"))]
mod tests {
    use super::*;
    use crate::device::EmulatedDevice;
    use crate::ring::Ring;

    fn device() -> Arc<dyn Device> {
        Arc::new(EmulatedDevice::new())
    }

    #[test]
    fn the_header_in_device_memory_is_the_host_rings_byte_for_byte() {
        let device = device();
        let ring = DeviceRing::create(&device, 8, 24, 0x5eed).unwrap();
        let (producer, _consumer) = Ring::create(8, 24, 0x5eed).unwrap();
        let (base, len) = producer.memory();
        // SAFETY: the ring's memory is `len` initialised bytes, alive while `producer` is;
        // nothing writes it here (the consumer end is idle).
        let host = unsafe { std::slice::from_raw_parts(base.as_ptr(), len) };
        let mut on_device = vec![0xaa; len];
        device.read(ring.device_address(), &mut on_device).unwrap();
        assert_eq!(on_device, host, "header and empty slots");
        assert_eq!(ring.len().unwrap(), 0);
    }

    #[test]
    fn the_gauge_counts_what_the_kernels_left_in_it() {
        let device = device();
        let ring = DeviceRing::create(&device, 8, 8, 3).unwrap();
        let at = |offset: u32| ring.device_address() + u64::from(offset);
        device.write(at(offsets::Q_TAIL), &7u64.to_le_bytes()).unwrap();
        device.write(at(offsets::Q_HEAD), &2u64.to_le_bytes()).unwrap();
        assert_eq!(ring.gauge().len().unwrap(), 5);
    }

    #[test]
    fn bad_geometry_and_type_id_zero_are_refused() {
        let device = device();
        assert!(matches!(DeviceRing::create(&device, 6, 8, 3), Err(RingError::Geometry(_))));
        assert!(matches!(DeviceRing::create(&device, 8, 8, 0), Err(RingError::Geometry(_))));
    }

    #[test]
    fn dropping_the_last_holder_frees_the_memory() {
        let device = device();
        let ring = DeviceRing::create(&device, 8, 8, 3).unwrap();
        let address = ring.device_address();
        let other_end = ring.clone();
        drop(ring);
        let mut byte = [0u8; 1];
        assert!(device.read(address, &mut byte).is_ok(), "the other end still holds it");
        drop(other_end);
        assert!(device.read(address, &mut byte).is_err(), "freed with its last holder");
    }
}
