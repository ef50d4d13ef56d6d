import { LabIcon } from '@jupyterlab/ui-components';

import promptSvg from '../style/icons/prompt.svg';
import stateSvg from '../style/icons/state.svg';

export const promptIcon = new LabIcon({ name: 'jupyter-revive:prompt', svgstr: promptSvg });

export const stateIcon = new LabIcon({ name: 'jupyter-revive:state', svgstr: stateSvg });
