import { LabIcon } from '@jupyterlab/ui-components';

import promptSvg from '../style/icons/prompt.svg';

export const promptIcon = new LabIcon({ name: 'jupyter-revive:prompt', svgstr: promptSvg });
