import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import { Type } from 'typebox';
import type { AuthGuards } from '../http/authenticate.ts';
import { liveErrors } from '../http/common.schemas.ts';
import type { LiveDevicesService } from './live-devices.service.ts';
import { refuseRawMedia } from './raw-media.ts';
import { CalibrationBody, CalibrationCreated, CalibrationInput, DeviceMetricsInput, DeviceMetricsStored } from './live.schemas.ts';

export interface CalibrationRoutesDeps {
  devices: LiveDevicesService;
  guards: AuthGuards;
  /** Budget of anonymous device metrics (per client IP). */
  metricsLimit: preHandlerAsyncHookHandler;
}

const tags = ['live: devices'];

/** Family B per-device routes: calibration baselines (own user's only) and device health metrics. */
export async function calibrationRoutes(fastify: FastifyInstance, deps: CalibrationRoutesDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { devices, guards } = deps;
  // The privacy rule applies here as on events: a calibration or a metric never carries a picture.
  app.addHook('preValidation', refuseRawMedia);

  app.get('/api/calibration/', {
    preHandler: guards.requireUser,
    schema: {
      tags, summary: "The current user's calibrations, newest first",
      response: { 200: Type.Array(CalibrationBody), ...liveErrors(401) },
    },
  }, async (request) => {
    const list = await devices.listCalibrations(request.auth!.user.id);
    return list.map((c) => ({
      id: c.id, device_id: c.deviceId, baseline_angle: c.baselineAngle, created_at: c.createdAt.toISOString(),
    }));
  });

  app.post('/api/calibration/', {
    preHandler: guards.requireUser,
    schema: {
      tags, summary: 'Record an upright baseline angle (0 to 90°); it labels later events', body: CalibrationInput,
      response: { 201: CalibrationCreated, ...liveErrors(400, 401) },
    },
  }, async (request, reply) => {
    const calibration = await devices.calibrate(request.auth!.user.id, {
      deviceId: request.body.device_id ?? null, baselineAngle: request.body.baseline_angle,
    });
    return reply.status(201).send({ calibration_id: calibration.id });
  });

  app.post('/api/device_metrics/', {
    preHandler: [guards.optionalUser, deps.metricsLimit],
    schema: {
      tags, summary: "Record a device's health hints (battery level, frame rate)",
      description: 'Any subset of `device_id`, `battery_level` (0-100) and `fps` (0-240); other keys are ignored. '
        + 'A body with none of the three is a 400 and nothing is stored.',
      body: DeviceMetricsInput,
      response: { 201: DeviceMetricsStored, ...liveErrors(400, 401, 429) },
    },
  }, async (request, reply) => {
    const { device_id, battery_level, fps } = request.body;
    await devices.recordMetrics({
      userId: request.auth?.user.id ?? null, deviceId: device_id ?? null, batteryLevel: battery_level ?? null, fps: fps ?? null,
    });
    return reply.status(201).send({ stored: true as const });
  });
}
