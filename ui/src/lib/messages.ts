// The bridge's stream messages come from the contract (schema/messages.ts); nothing is redefined here.
export type {
  BboMessage,
  BookMessage,
  ErrorMessage,
  ServerMessage as StreamMessage,
  StatusMessage,
  SubscribeRequest,
  TradeMessage,
} from "../../../schema/messages.ts";
