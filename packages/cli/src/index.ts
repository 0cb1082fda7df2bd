export type { AblationCell, AblationRow } from './ablate.js';
export { ABLATION_VARIANTS, runAblation, SFT_ONLY } from './ablate.js';
export type { AblationChartData } from './ablate-chart.js';
export { renderAblationChart } from './ablate-chart.js';
export { runBench } from './bench.js';
export { checkConfigPlugins } from './check-plugins.js';
export { main } from './commands.js';
export type { PluginRefConfig, StepcoderConfig, StepcoderConfigInput } from './config.js';
export { configSchema, loadCheckedConfig, loadConfig, parseConfig } from './config.js';
export type { DoctorReport, StartupCheckIo } from './doctor.js';
export { formatChecks, runChecks, startupChecks, startupChecksOrExit } from './doctor.js';
export type { CheckResult, GemmDiagnostics, Needs } from './doctor-checks.js';
export { gemmDiagnostics, needsOf } from './doctor-checks.js';
export type { MetricsRow } from './metrics-log.js';
export { MetricsLog } from './metrics-log.js';
export { applyOverrides } from './overrides.js';
export type { PassAtKReports, PlotExtras, PlotSeries } from './plot.js';
export { renderPlotHtml } from './plot.js';
export { loadConfigPlugins, registerPluginLoaders } from './plugins.js';
export type { Progress, ProgressOptions, ProgressStream } from './progress.js';
export { createProgress, formatDuration, formatEta } from './progress.js';
export type { EvalReports, PipelineSummary, RunContext, RunIo } from './run.js';
export {
  createRunContext,
  describeEval,
  evalStage,
  PLOT_METRICS,
  runPipeline,
  sftStage,
  trainStage,
} from './run.js';
export type { ProblemSplit } from './setup.js';
export {
  createFromConfig,
  setupBackend,
  setupCurriculum,
  setupExecutor,
  setupPolicy,
  setupProblems,
} from './setup.js';
