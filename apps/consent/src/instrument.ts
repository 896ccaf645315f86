// First import of main.ts: tracing must be set up before what it instruments is loaded.
import { startTelemetry } from '@dsg/platform/telemetry/instrument';

startTelemetry('consent');
