/**
 * The WhatsApp Cloud API simulator (see `simulator.ts`): message sends validated as Meta does,
 * Graph errors, throughput and pair-rate limits, the 24-hour window, and signed webhooks for
 * statuses and inbound customer messages.
 */
export { DEFAULT_ACCESS_TOKEN, DEFAULT_PHONE_NUMBER, DEFAULT_TEMPLATES, startWhatsAppSimulator } from "./simulator.ts"
export type {
  GraphFault,
  InboundOptions,
  RunningWhatsAppSimulator,
  SendAttempt,
  SendInfo,
  SimMessage,
  SimMessageStatus,
  SimPhoneNumber,
  SimTemplate,
  TemplateCategory,
  TemplateStatus,
  WhatsAppSimulatorOptions
} from "./simulator.ts"
export { GRAPH_ERRORS, graphError, webhookError } from "./graphErrors.ts"
export { hubSignature, WhatsAppWebhooks } from "./webhooks.ts"
export type { WhatsAppDeliveryStatus, WhatsAppWebhookDelivery } from "./webhooks.ts"
