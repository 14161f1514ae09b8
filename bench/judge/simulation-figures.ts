import { SCENARIOS, SIMULATION_RUNS, STATISTICS_GOALS, seedOf, simulate, tally } from '../../testkit/judge-simulation.js';

/** One statistics goal, measured: the share of runs the goal reads, and whether it meets its bound. */
export interface SimulationFigure {
  scenario: string;
  figure: string;
  share: number;
  bound: string;
  met: boolean;
  runs: number;
  seed: number;
}

/** Runs the suite's seeded judge simulation (the same scenarios and seeds as test/judge/judge-simulation.test.ts). */
export function simulationFigures(): { figures: SimulationFigure[]; seconds: number } {
  const started = performance.now();
  const figures = STATISTICS_GOALS.map((goal): SimulationFigure => {
    const seed = seedOf(goal.scenario);
    const share = goal.share(tally(simulate(SCENARIOS[goal.scenario], SIMULATION_RUNS, seed)));
    const met = 'atLeast' in goal.bound ? share >= goal.bound.atLeast : share <= goal.bound.atMost;
    const bound = 'atLeast' in goal.bound ? `≥ ${goal.bound.atLeast * 100}%` : `≤ ${goal.bound.atMost * 100}%`;
    return { scenario: SCENARIOS[goal.scenario].name, figure: goal.figure, share, bound, met, runs: SIMULATION_RUNS, seed };
  });
  return { figures, seconds: (performance.now() - started) / 1000 };
}
