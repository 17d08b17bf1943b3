import { input, run, setOutputs } from '@hallmark/kit';

await run('setup-tools', async () => {
  const tools = input.list('tools', { required: true, item: /^[a-z]+(@v?\d+\.\d+\.\d+)?$/, expected: 'name or name@version' });
  setOutputs({ tools: Object.fromEntries(tools.map((t) => [t, {}])) });
});
