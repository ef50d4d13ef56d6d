/**
 * Shapes shared by the jupyter-revive UI pieces: the nbformat metadata
 * contract (see DESIGN.md) and the server's answers.
 */

/** Metadata key used on the notebook and on cells. */
export const METADATA_KEY = 'revive';

/** The record of one execution, as the kernel tracker puts it in execute_reply metadata. */
export interface IRunRecord {
  context: string;
  seq: number;
  cell: string | null;
  code: string;
  status: 'ok' | 'error';
  ms: number;
  defined: string[];
  deleted: string[];
  /** Live names whose objects the run changed in place (trackers before 0.2: absent). */
  mutated?: string[];
  /** Names fingerprinted whole before and after the run, and equal. */
  unchanged?: string[];
  /** Paths the run read, wrote (created, renamed to) and removed, and folders it listed. */
  files?: { read: string[]; written: string[]; removed: string[]; listed?: string[] };
  /**
   * Environment variable names (never values), a cwd change, library settings changed, global
   * random generators drawn from (`numpy.random`, `random`; absent in older records), library
   * classes changed in place (`pandas.DataFrame`; only when there are any).
   */
  env?: {
    vars: string[];
    cwd: boolean;
    options: string[];
    random?: string[];
    classes?: string[];
  };
  count?: number | null;
  truncated?: boolean;
}

/** `metadata.revive` of a cell: its last run. */
export interface ICellRecord {
  context: string;
  seq: number;
  code: string;
  status: 'ok' | 'error';
  ms: number;
  defined: string[];
  deleted: string[];
  mutated?: string[];
  unchanged?: string[];
  files?: IRunRecord['files'];
  env?: IRunRecord['env'];
}

/** `metadata.revive` of a notebook: the context its saved state belongs to. */
export interface INotebookRecord {
  context: string;
  /** The notebook's stable identity, which keys its checkpoints (set on the first one). */
  notebook?: string;
  /** `[cell id, code sha]` per execution in that context, in order. */
  history: [string, string][];
  /** Set when old entries were dropped to keep the history bounded. */
  truncated?: boolean;
  /**
   * The record of a context whose state was lost and not yet restored (kept
   * across saves, so a cancelled or failed restore can be resumed after a reload).
   */
  lost?: ILostRecord;
}

export interface ILostRecord {
  context: string;
  history: [string, string][];
  truncated?: boolean;
}

/** `GET kernels/<id>/context`: the tracker's answer (`context_dict` in its ledger). */
export interface IKernelContext {
  context: string;
  pid?: number;
  /** When the kernel process started: an ISO 8601 timestamp (UTC). */
  started?: string;
  /** The tracker's version. */
  tracker?: string;
  /** Sequence number of the latest execution. */
  seq?: number;
  /** Executions dropped from the bounded ledger. */
  dropped?: number;
  executions: IRunRecord[];
}

/** Live / fresh / stale: does the notebook's recorded state still exist? */
export type Verdict = 'live' | 'fresh' | 'stale' | 'unknown';

/** One planner warning (edited since run, side effect, unseeded randomness, …). */
export interface IPlanWarning {
  kind: string;
  /** Position of the cell in the notebook; null when the cell is gone. */
  cell: number | null;
  /** The cell's id; null when the warning concerns no single cell. */
  id: string | null;
  message: string;
}

/** One planned run: the cell's position in the notebook, its id, and why it runs. */
export interface IPlannedCell {
  index: number;
  id: string;
  reason: string;
}

/** One load of a plan: these names from one checkpoint, after the first `at` cells. */
export interface ILoadStep {
  checkpoint: string;
  names: string[];
  /** The history position the loaded values belong to. */
  position: number;
  /** How many of the plan's cells run before this load (definitions the data refers to). */
  at: number;
}

/** The checkpoint part of a plan. */
export interface ILoadPlan {
  names: string[];
  steps: ILoadStep[];
  estimate_s: number;
}

/** `POST check`: one reason the saved state may not reproduce top to bottom. */
export interface IFinding {
  kind: 'order' | 'repeated' | 'edited' | 'deleted';
  /** Position in the notebook (null: a deleted cell). */
  cell: number | null;
  id: string;
  message: string;
}

/** `POST graph`: one recorded execution and what a restore does with it. */
export interface IGraphNode {
  /** `e<position>`. */
  id: string;
  /** Position in the run order. */
  position: number;
  cell_id: string;
  /** Position of the cell in the notebook; null when the cell is gone. */
  cell: number | null;
  /** The first line of its code. */
  label: string;
  /** `recorded`: the kernel's state is unknown (no kernel, or no tracker). */
  state: 'live' | 'lost' | 'rerun' | 'load' | 'recorded';
  edited: boolean;
  deleted: boolean;
  failed: boolean;
  ms: number | null;
  defines: string[];
  /** Files written, environment variables and options set. */
  effects: string[];
}

export type GraphEdgeKind = 'name' | 'file' | 'env' | 'state';

/** `POST graph`: values of one kind that `source` made and `target` used. */
export interface IGraphEdge {
  source: string;
  target: string;
  kind: GraphEdgeKind;
  names: string[];
}

/** `POST graph`: the notebook's executions in run order, and the values between them. */
export interface IStateGraph {
  context: string | null;
  state: 'live' | 'lost' | 'unknown';
  nodes: IGraphNode[];
  edges: IGraphEdge[];
}

/** What a restore does for one lost name, and why. */
export interface INameOutcome {
  name: string;
  how: 'load' | 'rerun' | 'unrestorable';
  why: string;
}

/** `POST plan`: the cells to run, in order (a cell may repeat), and why. */
export interface IPlan {
  cells: IPlannedCell[];
  /** Data first, the pipeline's products first; then definitions, imports, loop variables. */
  names: string[];
  /** Kind of each name that is not plain data: module, import, class, function, temporary. */
  kinds?: Record<string, string>;
  unrestorable: string[];
  warnings: IPlanWarning[];
  /** Load from a checkpoint as part of the restore (null: only re-run cells). */
  load?: ILoadPlan | null;
  /** Checkpointed names left out because the code they came from changed since. */
  stale?: { names: string[] } | null;
  /** Estimated seconds: this restore, and restart-and-run-all. */
  estimate_s?: { restore: number; rerun_all: number };
  /** Per lost name: loaded, re-run or unrestorable, and why. */
  outcomes?: INameOutcome[];
}

/** `POST kernels/<id>/checkpoint`. */
export interface ICheckpointAnswer {
  checkpoint: string;
  saved: string[];
  skipped: { name: string; reason: string }[];
  replay: string[];
  bytes: number;
  ms: number | null;
}

/** `POST kernels/<id>/load`. */
export interface ILoadAnswer {
  context?: string;
  loaded: string[];
  refused: { name: string; reason: string }[];
  ms: number | null;
}

/** Settings: what to do on open / on restart when kernel state is lost. */
export type RecoveryMode = 'ask' | 'always' | 'never';

/** LLM choices a user may make from JupyterLab settings; empty means the server's default. */
export interface ILLMOptions {
  model?: string;
  max_tokens?: number;
  temperature?: number;
}

export interface IReviveSettings {
  onOpen: RecoveryMode;
  onRestart: RecoveryMode;
  /** Run generated code as soon as it is complete (else only insert it). */
  runAfterGenerate: boolean;
  /** Checkpoint what a cell changed after it ran at least `minSeconds`. */
  autoCheckpoint: boolean;
  autoCheckpointSeconds: number;
  /** Checkpoint what changed before a shutdown or restart of the kernel. */
  checkpointOnShutdown: boolean;
  /** Space for one notebook's checkpoints, in GB (0: the server's cap). */
  checkpointCapGB: number;
  /** After a save, say when the notebook may not reproduce top to bottom. */
  checkOnSave: boolean;
  llm: ILLMOptions;
}

/** Progress of a restore: `done` of `total` planned runs finished. */
export interface IRestoreProgress {
  state: 'running' | 'loading' | 'done' | 'cancelled' | 'failed';
  /** state `loading`: the names being loaded from a checkpoint. */
  names?: string[];
  /** The names a checkpoint refused (changed files, another key): to recompute instead. */
  refused?: string[];
  done: number;
  total: number;
  /** Position (0-based) in the notebook of the cell running or that failed. */
  index?: number;
  message?: string;
  /** The restore failed because the kernel died or restarted under it. */
  kernelDied?: boolean;
}

/** `metadata.revive.prompt` of a prompt (markdown) cell. */
export interface IPromptRecord {
  id: string;
}

/** `metadata.revive.generated` of a code cell written by a prompt cell. */
export interface IGeneratedRecord {
  prompt: string;
  model: string;
  time: string;
  variables: string[];
}

/** One event of the `POST generate` stream (newline-delimited JSON). */
export type GenerateEvent =
  | { type: 'start'; model: string; variables?: string[] }
  | { type: 'delta'; text: string }
  | {
      type: 'done';
      text: string;
      code: string;
      model?: string;
      stop_reason?: string | null;
      /** Names the code reads that neither it, builtins nor the kernel define. */
      missing?: string[];
      /** Cells that rebuild the missing names, if notebook cells define them. */
      plan?: IPlan | null;
    }
  | { type: 'cancelled'; text: string }
  | { type: 'error'; kind: string; message: string; retry_after?: number | null };
