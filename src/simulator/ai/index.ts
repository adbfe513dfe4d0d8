/** The AI providers' APIs (Anthropic, OpenAI, Gemini, Mistral, Cohere) on one loopback server: see `simulator.ts`. */
export { AI_BASE_PATHS, AI_PROVIDERS, SIMULATED_MODELS, simulatedTokens, startAiSimulator } from "./simulator.ts"
export type { AiFaultKind, AiProvider, AiRequestSeen, AiSimulatorOptions, RunningAiSimulator } from "./simulator.ts"
