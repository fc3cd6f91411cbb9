import { randomUUID } from 'node:crypto';
import { errors } from '../errors/app-error.ts';
import type { Calibration, DeviceMetricsSample, LiveDevicesRepository } from './live-devices.repository.ts';

export const NO_DEVICE_METRICS = 'No device metrics given: send at least one of device_id, battery_level (0-100), fps (0-240)';

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

  /**
   * Clients send whatever hints they have (a browser without a battery API sends no battery level), so any of
   * them may be missing; a sample with none says nothing and is refused rather than stored as an empty row.
   * @throws AppError invalid_request
   */
  async recordMetrics(sample: DeviceMetricsSample): Promise<void> {
    if (sample.deviceId === null && sample.batteryLevel === null && sample.fps === null) {
      throw errors.invalidRequest(NO_DEVICE_METRICS);
    }
    await this.deps.devices.insertDeviceMetrics(sample);
  }
}
