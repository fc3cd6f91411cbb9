import { randomUUID } from 'node:crypto';
import type { Calibration, DeviceMetricsSample, LiveDevicesRepository } from './live-devices.repository.ts';

/**
 * Calibrations and device metrics. A calibration is the user's upright spine angle (0 to 90°), per device when
 * given; the latest one labels that user's later events (see PostureEventIngest).
 */
export class LiveDevicesService {
  constructor(private readonly deps: { devices: LiveDevicesRepository; onCalibrated?: (userId: string) => void }) {}

  async calibrate(userId: string, input: { deviceId: string | null; baselineAngle: number }): Promise<Calibration> {
    const calibration = await this.deps.devices.insertCalibration({ id: randomUUID(), userId, ...input });
    this.deps.onCalibrated?.(userId);
    return calibration;
  }

  listCalibrations(userId: string): Promise<Calibration[]> {
    return this.deps.devices.listCalibrations(userId);
  }

  recordMetrics(sample: DeviceMetricsSample): Promise<void> {
    return this.deps.devices.insertDeviceMetrics(sample);
  }
}
