import { describe, expect, it } from 'vitest';
import { limitsInput, limitsToForm, memoryQuantity, validateLimits } from './limits';

describe('member limits', () => {
  it('shows limits as quantities the server reads back the same', () => {
    expect(memoryQuantity(32 * 2 ** 30)).toBe('32Gi');
    expect(memoryQuantity(512 * 2 ** 20)).toBe('512Mi');
    expect(memoryQuantity(1000)).toBe('1000');
    expect(limitsToForm({ cpu: 0.5, memory_bytes: null, gpus: 0, running_jobs: 3 })).toEqual({ cpu: '0.5', memory: '', gpus: '0', running_jobs: '3' });
  });

  it('accepts empty fields (no limit) and quantities; names the field of anything else', () => {
    expect(validateLimits({ cpu: '500m', memory: '32Gi', gpus: '', running_jobs: ' 2 ' })).toEqual({});
    expect(validateLimits({ cpu: '-1', memory: '32 GB', gpus: 'two', running_jobs: '1e3' })).toEqual({
      cpu: 'CPU must be a number of cores such as 8, 0.5 or 500m, or empty for no limit.',
      memory: 'Memory must be an amount such as 512Mi or 32Gi, or empty for no limit.',
      gpus: 'GPUs must be a whole number of GPUs, or empty for no limit.',
      running_jobs: 'Running jobs must be a whole number of jobs, or empty for no limit.',
    });
  });

  it('sends quantities as typed, counts as numbers and null for no limit', () => {
    expect(limitsInput({ cpu: ' 8 ', memory: '', gpus: '1', running_jobs: '' })).toEqual({ cpu: '8', memory: null, gpus: 1, running_jobs: null });
  });
});
