import { describe, expect, it } from 'vitest';
import type { Notebook } from '../../api/notebook';
import { spokenDuration, startStep, startsOnVisit, stopNotice } from './model';

const stopped = (reason: string, over: Partial<Notebook> = {}) => ({
  state: 'stopped',
  reason,
  message: '',
  idle_timeout_seconds: 3600,
  max_age_seconds: 0,
  ...over,
});

describe('notebook model', () => {
  it('starts on a visit only what is stopped and not by its user', () => {
    expect(startsOnVisit({ state: 'stopped', reason: '' })).toBe(true);
    expect(startsOnVisit({ state: 'stopped', reason: 'idle' })).toBe(true);
    expect(startsOnVisit({ state: 'stopped', reason: 'max_age' })).toBe(true);
    expect(startsOnVisit({ state: 'stopped', reason: 'server' })).toBe(true);
    expect(startsOnVisit({ state: 'stopped', reason: 'user' })).toBe(false);
    expect(startsOnVisit({ state: 'failed', reason: 'Error' })).toBe(false);
    expect(startsOnVisit({ state: 'running', reason: '' })).toBe(false);
    expect(startsOnVisit({ state: 'starting', reason: 'waiting for 2 CPUs' })).toBe(false);
  });

  it('tells the step of a start from the state and the wait reason', () => {
    expect(startStep(null)).toBe('resources');
    expect(startStep({ state: 'stopped', reason: '' })).toBe('resources');
    expect(startStep({ state: 'starting', reason: 'waiting for 2 CPUs' })).toBe('resources');
    expect(startStep({ state: 'starting', reason: 'waiting to be scheduled' })).toBe('resources');
    expect(startStep({ state: 'starting', reason: 'Unknown' })).toBe('resources');
    expect(startStep({ state: 'starting', reason: '' })).toBe('resources');
    expect(startStep({ state: 'starting', reason: 'Starting' })).toBe('jupyter');
    expect(startStep({ state: 'starting', reason: 'readiness probe failed' })).toBe('jupyter');
    expect(startStep({ state: 'running', reason: '' })).toBe('ready');
  });

  it('says durations with their two largest units', () => {
    expect(spokenDuration(3600)).toBe('1 h');
    expect(spokenDuration(5400)).toBe('1 h 30 min');
    expect(spokenDuration(90)).toBe('1 min 30 s');
    expect(spokenDuration(45)).toBe('45 s');
    expect(spokenDuration(90_000)).toBe('1 d 1 h');
    expect(spokenDuration(0)).toBe('0 s');
  });

  it('says why a notebook stopped', () => {
    expect(stopNotice(stopped(''))).toBeNull();
    expect(stopNotice(stopped('idle', { idle_timeout_seconds: 1800 }))).toBe('Stopped after 30 min without activity; your files are kept.');
    expect(stopNotice(stopped('max_age', { max_age_seconds: 86_400 }))).toBe('Stopped after running 1 d, the longest a notebook may run; your files are kept.');
    expect(stopNotice(stopped('server', { message: 'its replica was lost; its files are kept' }))).toBe('Its replica was lost; its files are kept.');
    expect(stopNotice(stopped('server'))).toBe('Stopped (server); your files are kept.');
    expect(stopNotice({ ...stopped('idle'), state: 'running' })).toBeNull();
  });
});
