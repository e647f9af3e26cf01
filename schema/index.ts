export * from "./clock.ts";
export * from "./decimal.ts";
export * from "./frame.ts";
export * from "./instruments.ts";
export * from "./messages.ts";
export * from "./stamp.ts";
export * from "./stream.ts";
