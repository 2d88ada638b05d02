export { onShutdown, type Shutdown, type ShutdownOptions } from "./shutdown.ts";
