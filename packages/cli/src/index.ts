export { configSchema, loadConfig, parseConfig } from './config.js';
export type { PluginRefConfig, StepcoderConfig, StepcoderConfigInput } from './config.js';
export { applyOverrides } from './overrides.js';
export { MetricsLog } from './metrics-log.js';
export type { MetricsRow } from './metrics-log.js';
export { renderPlotHtml } from './plot.js';
export type { PlotSeries } from './plot.js';
export { createProgress } from './progress.js';
export type { Progress } from './progress.js';
export { registerPluginLoaders } from './plugins.js';
export {
  createFromConfig,
  setupBackend,
  setupCurriculum,
  setupExecutor,
  setupPolicy,
  setupProblems,
} from './setup.js';
export type { ProblemSplit } from './setup.js';
export { PLOT_METRICS, createRunContext, describeEval, evalStage, runPipeline, sftStage, trainStage } from './run.js';
export type { EvalReports, PipelineSummary, RunContext, RunIo } from './run.js';
export { ABLATION_VARIANTS, runAblation } from './ablate.js';
export type { AblationCell, AblationRow } from './ablate.js';
export { runBench } from './bench.js';
export { main } from './commands.js';
