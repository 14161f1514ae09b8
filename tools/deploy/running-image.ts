import { CliError } from '../cli/index.js';
import { mustRun } from './run-command.js';

/** The first container is the app or worker itself, so its image is the build the deployment runs. */
export const RUNNING_IMAGE_JSONPATH = '{.spec.template.spec.containers[0].image}';

/** The image `deployment` runs, or null when the deployment does not exist (nothing deployed yet). */
export async function readRunningImage(deployment: string): Promise<string | null> {
  // --ignore-not-found turns "no such deployment" into empty output with exit 0, while a cluster that cannot be
  // reached still exits non-zero: only the first may ever mean "nothing deployed".
  const stdout = await mustRun(
    'kubectl',
    ['get', `deployment/${deployment}`, '-o', `jsonpath=${RUNNING_IMAGE_JSONPATH}`, '--ignore-not-found'],
    'cannot tell what the canary runs; check cluster access (KUBECONFIG, the KUBE_CONFIG secret) and the current namespace',
  );
  const image = stdout.trim();
  if (image === '') return null;
  if (/\s/.test(image)) throw new CliError(`deployment/${deployment} reported "${image}" as its image, not one image reference; check it with kubectl get deployment/${deployment} -o yaml`);
  return image;
}
